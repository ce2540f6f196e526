import { ConfigError } from '../../core/errors.js';
import type { AdminApi, ResourceJson } from '../admin-api.js';
import { lockMessage } from '../flag-values.js';
import { parseResourceReference } from '../resource-reference.js';

/** What a bot instance resource says about its lock and its identity, as the service sends it. */
interface InstanceStatus {
  readonly locked?: { readonly at: string; readonly reason: string; readonly by?: string };
  readonly latest_authentications?: ReadonlyArray<{ readonly expires_at?: string }>;
}

/** `BOT` and `ID` of `bot_instance/BOT/ID`, for `lock` and `unlock`, which take nothing else. */
function instanceOf(ref: string, command: 'lock' | 'unlock'): { bot: string; id: string } {
  const { kind, names } = parseResourceReference(ref, command);
  const [bot, id] = names;
  if (kind !== 'bot_instance' || bot === undefined || id === undefined) {
    const stop =
      kind === 'bot'
        ? `; to stop a whole bot, lock each of its instances (\`midctl bots instances ls ${bot ?? 'BOT'}\`) and remove its tokens, or remove the bot (\`midctl bots rm ${bot ?? 'BOT'}\`)`
        : '';
    throw new ConfigError(
      'invalid_reference',
      `${command} bot_instance/BOT/ID: got "${ref}"; only bot instances are locked${stop}`,
    );
  }
  return { bot, id };
}

function statusOf(instance: ResourceJson): InstanceStatus {
  return (instance['status'] ?? {}) as InstanceStatus;
}

/**
 * `tctl lock` flags a Teleport user may type, each with what to do instead: midctl locks bot instances,
 * named as `midctl rm` names them, until they are unlocked.
 */
export const TCTL_LOCK_FLAGS = {
  user: 'midctl locks bot instances, not users: lock each instance of the bot (`midctl bots instances ls BOT`, then `midctl lock bot_instance/BOT/ID`) and remove its tokens so that it cannot join again',
  role: 'midctl locks bot instances, not roles: lock the instances of the bots that hold the role, or take it from them (`midctl bots update BOT --set-roles=...`)',
  login:
    'midctl locks bot instances, not logins: take the login from the bots that have it (`midctl bots update BOT --set-logins=...`)',
  botInstanceId:
    'name the instance as an argument, bot_instance/BOT/ID (`midctl bots instances ls` lists them)',
  ttl: 'a lock lasts until `midctl unlock`; there is no --ttl',
  expires: 'a lock lasts until `midctl unlock`; there is no --expires',
} as const;

export type TctlLockFlags = { readonly [Flag in keyof typeof TCTL_LOCK_FLAGS]?: string };

/** A key of {@link TCTL_LOCK_FLAGS} as typed on the command line: `botInstanceId` → `--bot-instance-id`. */
export function tctlLockFlag(key: string): string {
  return `--${key.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
}

/**
 * What `midctl lock` was given to lock, checked before anything is sent (or a data directory looked
 * for): `tctlFlags` are the `tctl lock` flags typed, each refused with its advice.
 */
export function lockTarget(ref: string | undefined, tctlFlags: TctlLockFlags): string {
  for (const [flag, advice] of Object.entries(TCTL_LOCK_FLAGS)) {
    if (tctlFlags[flag as keyof TctlLockFlags] !== undefined) {
      throw new ConfigError('invalid_flag', `lock ${tctlLockFlag(flag)}: ${advice}`);
    }
  }
  if (ref === undefined) {
    throw new ConfigError(
      'invalid_reference',
      'lock needs the instance to lock: midctl lock bot_instance/BOT/ID (`midctl bots instances ls` lists them)',
    );
  }
  return ref;
}

/** `midctl lock bot_instance/BOT/ID [--message TEXT]`. */
export async function lockInstance(api: AdminApi, ref: string, message: string | undefined): Promise<string> {
  const { bot, id } = instanceOf(ref, 'lock');
  const status = statusOf(
    await api.lockInstance(bot, id, message === undefined ? undefined : lockMessage(message)),
  );
  const name = `${bot}/${id}`;
  const expires = status.latest_authentications?.at(-1)?.expires_at;
  return [
    `bot instance ${name} is locked: ${status.locked?.reason ?? ''}`,
    'Its next call to the auth service is refused: renewals, output certificates and heartbeats, and for an iam bot its next join from the same role session. A running midbot keeps retrying, and carries on once the lock is lifted if its identity is still valid then.',
    `The certificates it already holds stay valid until they expire${expires === undefined ? '' : ` (its identity expires at ${expires})`}.`,
    `Lift the lock with \`midctl unlock bot_instance/${name}\`.`,
    '',
  ].join('\n');
}

/** `midctl unlock bot_instance/BOT/ID`. */
export async function unlockInstance(api: AdminApi, ref: string): Promise<string> {
  const { bot, id } = instanceOf(ref, 'unlock');
  await api.unlockInstance(bot, id);
  return [
    `bot instance ${bot}/${id} is unlocked: its calls are accepted again.`,
    'A running midbot carries on at its next retry (within 5 minutes), a oneshot midbot or bot Lambda at its next run; an identity that expired meanwhile needs a new join token (an iam bot joins again by itself).',
    '',
  ].join('\n');
}
