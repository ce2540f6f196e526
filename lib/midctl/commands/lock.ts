import { ApiError } from '../../api/api-client.js';
import { resourceKindOf } from '../../api/resource-kinds.js';
import { untilText } from '../../auth/operator-lock.js';
import { renderTable } from '../../cli/table.js';
import { ConfigError } from '../../core/errors.js';
import { resourceNameProblem } from '../../resources/metadata.js';
import type { AdminApi, LockJson, ResourceJson } from '../admin-api.js';
import { lockLifetime, lockMessage } from '../flag-values.js';
import { parseResourceReference } from '../resource-reference.js';

/** What `midctl lock` and `unlock` act on: a whole bot, one of its instances, or a role. */
type LockTarget =
  | { readonly kind: 'bot'; readonly bot: string }
  | { readonly kind: 'bot_instance'; readonly bot: string; readonly id: string }
  | { readonly kind: 'role'; readonly role: string };

/** The targets as the refusals of a wrong one list them. */
const TARGETS = 'bot/NAME, bot_instance/BOT/ID or role/NAME';
const ONLY = 'only bots, bot instances and roles are locked';

/** What a bot instance resource says about its lock and its identity, as the service sends it. */
interface InstanceStatus {
  readonly locked?: {
    readonly at: string;
    readonly reason: string;
    readonly by?: string;
    readonly expires?: string;
  };
  readonly latest_authentications?: ReadonlyArray<{ readonly expires_at?: string }>;
}

/**
 * `bot/NAME`, `bot_instance/BOT/ID` or `role/NAME`, for `lock` and `unlock`, which take nothing else: a
 * bare name, or what a Teleport user would lock (`user/bot-NAME`, `login/NAME`), is answered with what
 * to write.
 */
function targetOf(ref: string, command: 'lock' | 'unlock'): LockTarget {
  const [kindText = '', first, ...rest] = ref.split('/');
  const kind = resourceKindOf(kindText);
  // A token's name is its secret: not echoed.
  const shown = kind === 'token' && first !== undefined ? `${kindText}/…` : ref;
  const refuse = (why: string) =>
    new ConfigError('invalid_reference', `${command} ${TARGETS}: got "${shown}", ${why}`);
  if (kind === undefined) {
    if (first === undefined && resourceNameProblem(ref) === undefined) {
      throw refuse(`which names no kind; to ${command} the bot "${ref}", write bot/${ref}`);
    }
    const meant = kindText === 'user' && rest.length === 0 ? meantTarget({ user: first }) : undefined;
    if (meant !== undefined) throw refuse(`a user; midctl ${command}s bots by name: write ${meant}`);
    if (kindText === 'user' || kindText === 'login') throw refuse(TCTL_LOCK_FLAGS[kindText]);
    throw refuse(ONLY);
  }
  if (kind !== 'bot' && kind !== 'bot_instance' && kind !== 'role') throw refuse(ONLY);
  const { names } = parseResourceReference(ref, command);
  const [bot, id] = names;
  if (kind === 'role' && bot !== undefined) return { kind, role: bot };
  if (kind === 'bot' && bot !== undefined) return { kind, bot };
  if (kind === 'bot_instance' && bot !== undefined && id !== undefined) return { kind, bot, id };
  // Not reached: parseResourceReference refuses a reference that names too little for its kind.
  throw refuse('which names too little');
}

function statusOf(instance: ResourceJson): InstanceStatus {
  return (instance['status'] ?? {}) as InstanceStatus;
}

/**
 * `tctl lock` flags a Teleport user may type, each with what to do instead: midctl locks bots, bot
 * instances and roles, named as `midctl rm` names them.
 */
export const TCTL_LOCK_FLAGS = {
  user: "midctl locks bots by name, not users: a bot's user bot-NAME is locked with `midctl lock bot/NAME`",
  role: 'name the role as an argument, role/NAME',
  login:
    'midctl locks bots, bot instances and roles, not logins: take the login from the bots that have it (`midctl bots update BOT --set-logins=...`)',
  botInstanceId:
    'name the instance as an argument, bot_instance/BOT/ID (`midctl bots instances ls` lists them)',
} as const;

export type TctlLockFlags = { readonly [Flag in keyof typeof TCTL_LOCK_FLAGS]?: string };

/** A key of {@link TCTL_LOCK_FLAGS} as typed on the command line: `botInstanceId` → `--bot-instance-id`. */
export function tctlLockFlag(key: string): string {
  return `--${key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
}

/** `tctl lock --user=bot-robot` → `bot/robot`, `--role=ops` → `role/ops`: the target a Teleport user meant. */
function meantTarget(flags: TctlLockFlags): string | undefined {
  if (flags.role !== undefined && flags.role !== '') return `role/${flags.role}`;
  const user = flags.user;
  return user?.startsWith('bot-') === true && user.length > 4 ? `bot/${user.slice(4)}` : undefined;
}

/** The flags of `midctl lock` beyond the target. */
export interface LockFlags extends TctlLockFlags {
  readonly message?: string;
  readonly ttl?: string;
  readonly expires?: string;
  readonly replace?: boolean;
}

/** What `midctl lock` sends: what to lock, and why and how long. */
export interface LockOrder {
  readonly target: LockTarget;
  readonly request: { message?: string; ttl_seconds?: number; expires?: string; replace?: true };
}

/**
 * What `midctl lock` was given, checked before anything is sent (or a data directory looked for): the
 * `tctl lock` flags typed are each refused with their advice.
 */
export function lockOrder(ref: string | undefined, flags: LockFlags): LockOrder {
  for (const [flag, advice] of Object.entries(TCTL_LOCK_FLAGS)) {
    if (flags[flag as keyof TctlLockFlags] !== undefined) {
      const meant = meantTarget(flags);
      const exactly = meant === undefined ? '' : `; here: \`midctl lock ${meant}\``;
      throw new ConfigError('invalid_flag', `lock ${tctlLockFlag(flag)}: ${advice}${exactly}`);
    }
  }
  if (ref === undefined) {
    throw new ConfigError(
      'invalid_reference',
      'lock needs what to lock: midctl lock bot/NAME for a whole bot, midctl lock bot_instance/BOT/ID for one instance (`midctl bots instances ls` lists them), or midctl lock role/NAME for every bot holding the role',
    );
  }
  const target = targetOf(ref, 'lock');
  const request = {
    ...(flags.message === undefined ? {} : { message: lockMessage(flags.message) }),
    ...lockLifetime(flags),
    ...(flags.replace === true ? { replace: true as const } : {}),
  };
  return { target, request };
}

/** `midctl lock bot/NAME | bot_instance/BOT/ID | role/NAME [--message TEXT] [--ttl D | --expires TIME]`. */
export async function lock(api: AdminApi, order: LockOrder): Promise<string> {
  try {
    return await lockTarget(api, order);
  } catch (error) {
    // The service judges --expires by its own clock and names the field as its API does (`expires:`);
    // the person typed the flag.
    if (error instanceof ApiError && error.message.startsWith('expires: ')) {
      throw new ApiError(error.httpStatus, error.code, `--${error.message}`, error.requestId);
    }
    throw error;
  }
}

async function lockTarget(api: AdminApi, { target, request }: LockOrder): Promise<string> {
  if (target.kind === 'role') {
    const locked = await api.lockRole(target.role, request);
    return [
      `role "${target.role}" is locked${untilText(locked.expires)}: ${locked.reason}`,
      'Every bot that holds it is refused every certificate from now on, whichever roles it asks for: its joins (a join token is not spent), renewals and output certificates. Running midbots keep retrying, and carry on once the lock is lifted if their identities are still valid then.',
      'The certificates already issued stay valid until they expire (`midctl bots instances ls` shows when).',
      `Lift the lock with \`midctl unlock role/${target.role}\`${locked.expires === undefined ? '' : ', or let it expire'}.`,
      ...replacedLine(request, 'role.lock'),
      '',
    ].join('\n');
  }
  if (target.kind === 'bot') {
    const locked = await api.lockBot(target.bot, request);
    return [
      `bot "${target.bot}" is locked${untilText(locked.expires)}: ${locked.reason}`,
      'Every call of its instances that starts from now on is refused (renewals, output certificates, heartbeats), and so is every join for it (a join token is not spent, but it may expire meanwhile). A running midbot keeps retrying, and carries on once the lock is lifted if its identity is still valid then.',
      'The certificates its instances already hold stay valid until they expire (`midctl bots instances ls` shows when).',
      `Lift the lock with \`midctl unlock bot/${target.bot}\`${locked.expires === undefined ? '' : ', or let it expire'}.`,
      ...replacedLine(request, 'bot.lock'),
      '',
    ].join('\n');
  }
  const status = statusOf(await api.lockInstance(target.bot, target.id, request));
  const name = `${target.bot}/${target.id}`;
  const identityExpires = status.latest_authentications?.at(-1)?.expires_at;
  return [
    `bot instance ${name} is locked${untilText(status.locked?.expires)}: ${status.locked?.reason ?? ''}`,
    'Its next call to the auth service is refused: renewals, output certificates and heartbeats, and for an iam bot its next join from the same role session. A running midbot keeps retrying, and carries on once the lock is lifted if its identity is still valid then.',
    `The certificates it already holds stay valid until they expire${identityExpires === undefined ? '' : ` (its identity expires at ${identityExpires})`}.`,
    `Lift the lock with \`midctl unlock bot_instance/${name}\`${status.locked?.expires === undefined ? '' : ', or let it expire'}.`,
    ...replacedLine(request, 'bot.lock'),
    '',
  ].join('\n');
}

/** With --replace: where the lock it replaced is on record. */
function replacedLine(request: LockOrder['request'], type: 'bot.lock' | 'role.lock'): string[] {
  return request.replace === true
    ? [
        `It takes the place of the lock in force, if there was one: \`midctl events ls --type ${type}\` keeps that one.`,
      ]
    : [];
}

const CARRIES_ON =
  'A running midbot carries on at its next retry (within 5 minutes), a oneshot midbot or bot Lambda at its next run; an identity that expired meanwhile needs a new join token (an iam bot joins again by itself).';

/** `midctl unlock bot/NAME | bot_instance/BOT/ID | role/NAME`. */
export async function unlock(api: AdminApi, ref: string): Promise<string> {
  const target = targetOf(ref, 'unlock');
  if (target.kind === 'role') {
    const lifted = await api.unlockRole(target.role);
    return `role "${target.role}" is unlocked (the lock of ${lifted.by} from ${lifted.at}): the bots holding it are issued certificates again.\n${CARRIES_ON}\n`;
  }
  if (target.kind === 'bot') {
    const lifted = await api.unlockBot(target.bot);
    return `bot "${target.bot}" is unlocked (the lock of ${lifted.by} from ${lifted.at}): its instances' calls and its joins are accepted again.\n${CARRIES_ON}\n`;
  }
  await api.unlockInstance(target.bot, target.id);
  return `bot instance ${target.bot}/${target.id} is unlocked: its calls are accepted again.\n${CARRIES_ON}\n`;
}

/** When a listed lock lifts: at its expiry, at `midctl unlock`, or (the service's own) never. */
function lifts(lock: LockJson): string {
  if (lock.expires !== undefined) return `at ${lock.expires}`;
  return lock.by === undefined ? 'never: remove the instance' : 'by midctl unlock';
}

/** `midctl locks ls [--format json]`: every lock in force, what it holds, whose it is, until when. */
export async function listLocks(api: AdminApi, format: 'text' | 'json'): Promise<string> {
  const locks = await api.locks();
  if (format === 'json') return `${JSON.stringify(locks, null, 2)}\n`;
  if (locks.length === 0) return 'Nothing is locked.\n';
  return renderTable(
    ['Target', 'Locked By', 'Since', 'Lifts', 'Reason'],
    locks.map((lock) => [lock.target, lock.by ?? 'the auth service', lock.at, lifts(lock), lock.reason]),
  );
}
