import { lockMessageProblem, MAX_EVENTS_PER_CALL } from '../api/admin.js';
import { AUDIT_EVENT_CATEGORIES, AUDIT_EVENT_TYPES } from '../api/audit-event-types.js';
import { isoTime, MAX_TTL_SECONDS } from '../api/wire-schemas.js';
import { closestNames } from '../core/closest-names.js';
import { formatDuration, parseDuration } from '../core/duration.js';
import { ConfigError } from '../core/errors.js';
import { describeValue } from '../core/schema.js';
import { resourceNameProblem } from '../resources/metadata.js';
import { isPosixLogin, LOGIN_RULE } from '../resources/principals.js';

/**
 * Flag values midctl checks itself before calling the service, so that a refusal names the flag and
 * the value as they were typed (`--ttl: got "100000h"`), not the wire field the value became
 * (`body.ttl_seconds: got 360000000`).
 */

/** `--roles=a,b` → `['a', 'b']`; `example` is what a good value of this flag looks like. */
export function splitList(value: string | undefined, flag: string, example = 'access,editor'): string[] {
  const items = (value ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
  if (items.length === 0)
    throw new ConfigError('invalid_flag', `${flag}: give a comma-separated list, e.g. ${flag}=${example}`);
  return items;
}

/**
 * A bot, role or token name given as a flag or argument (`what` is how the user wrote it, e.g.
 * `--bot-name`), checked before any request: the service would refuse a name with a `/` or a space as
 * a path it has no route for. `shown` is how the value is quoted back (not at all for a secret token).
 */
export function checkedName(value: string, what: string, shown = JSON.stringify(value)): string {
  const problem = resourceNameProblem(value);
  if (problem === undefined) return value;
  // `tctl` takes some lists where midctl takes one name (`tctl get role/a,role/b`).
  const oneName = value.includes(',') ? `; ${what} takes one name, not a list: run it once per name` : '';
  throw new ConfigError('invalid_flag', `${what}: got ${shown}, ${problem}${oneName}`);
}

/** A comma-separated list of role names (`--roles`, `--add-roles`, `--set-roles`). */
export function nameList(value: string, flag: string): string[] {
  return splitList(value, flag).map((name) => checkedName(name, flag));
}

/**
 * `--logins=root,ubuntu` (also `--add-logins`, `--set-logins`): the bot's logins trait, which only
 * takes POSIX user names.
 */
export function loginList(value: string, flag = '--logins'): string[] {
  return splitList(value, flag, 'root,ubuntu').map((login) => {
    if (!isPosixLogin(login))
      throw new ConfigError(
        'invalid_flag',
        `${flag}: got ${JSON.stringify(login)}, not a valid login; ${LOGIN_RULE}`,
      );
    return login;
  });
}

/** The longest token lifetime the service accepts, in milliseconds. */
const MAX_TOKEN_TTL_MS = MAX_TTL_SECONDS * 1000;

/** `--ttl=1h` of a join token, in whole seconds as the service takes it. */
export function tokenTtlSeconds(text: string): number {
  let ms: number;
  try {
    ms = parseDuration(text, '--ttl');
  } catch (error) {
    // Most likely a lifetime in days: with the units, say how far a token may live.
    throw new ConfigError(
      'invalid_flag',
      `${(error as Error).message}; a token lives at most ${formatDuration(MAX_TOKEN_TTL_MS)} (${MAX_TOKEN_TTL_MS / 86_400_000} days)`,
      { cause: error },
    );
  }
  if (ms <= 0) {
    throw new ConfigError(
      'invalid_flag',
      `--ttl: got ${JSON.stringify(text)}, expected a lifetime longer than zero, e.g. --ttl=1h`,
    );
  }
  if (ms > MAX_TOKEN_TTL_MS) {
    throw new ConfigError(
      'invalid_flag',
      `--ttl: got ${JSON.stringify(text)}, expected at most ${formatDuration(MAX_TOKEN_TTL_MS)} (${MAX_TOKEN_TTL_MS / 86_400_000} days); give a shorter lifetime, e.g. --ttl=24h`,
    );
  }
  return Math.ceil(ms / 1000);
}

/**
 * `--ttl` of `bots add` and `bots instances add`, which sets the lifetime of the token they make: with
 * `--token` no token is made, and the existing one keeps its own expiry, so the two are refused
 * together rather than `--ttl` being dropped unsaid.
 */
export function newTokenTtlSeconds(ttl: string | undefined, token: string | undefined): number | undefined {
  if (ttl === undefined) return undefined;
  if (token !== undefined) {
    throw new ConfigError(
      'invalid_flag',
      '--ttl and --token were both given; --ttl is the lifetime of a new token, and the token --token names keeps its own expiry (`midctl tokens ls`): leave out --ttl, or --token for a new token of that lifetime',
    );
  }
  return tokenTtlSeconds(ttl);
}

/** `events ls --limit N`. */
export function eventLimit(text: string): number {
  const limit = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isInteger(limit) || limit < 1 || limit > MAX_EVENTS_PER_CALL) {
    throw new ConfigError(
      'invalid_flag',
      `--limit: got ${JSON.stringify(text)}, expected a whole number from 1 to ${MAX_EVENTS_PER_CALL}, e.g. --limit 100`,
    );
  }
  return limit;
}

/**
 * `events ls --type bot.join` (or a category, `--type bot`). A type the log cannot hold would list
 * nothing, which reads as "no such events" rather than as the typo it is. The suggestions cover a type
 * given without its category (`join`) and a misspelt one (`bot.joinn`, `bot_join`, `bots`).
 */
export function eventType(text: string): string {
  const types: readonly string[] = AUDIT_EVENT_TYPES;
  if (types.includes(text) || AUDIT_EVENT_CATEGORIES.includes(text)) return text;
  const near = [
    ...new Set([
      ...types.filter((type) => type.endsWith(`.${text}`)),
      ...closestNames(text, [...types, ...AUDIT_EVENT_CATEGORIES]),
    ]),
  ];
  throw new ConfigError(
    'invalid_flag',
    `--type: got ${JSON.stringify(text)}, expected an event type (${types.join(', ')}) or a category for all its types (${AUDIT_EVENT_CATEGORIES.join(', ')})${near.length === 0 ? '' : `; did you mean ${near.map((type) => `--type ${type}`).join(' or ')}?`}`,
  );
}

/** The file `create` reads: given with -f/--file or alone, once. */
export function createFile(positional: string | undefined, flag: string | undefined): string {
  if (positional !== undefined && flag !== undefined && positional !== flag) {
    throw new ConfigError(
      'invalid_flag',
      `create reads one file: got ${positional} and --file ${flag}; give one (midctl create -f FILE, or midctl create FILE)`,
    );
  }
  const file = flag ?? positional;
  if (file === undefined) {
    throw new ConfigError(
      'invalid_flag',
      'create needs the file to read: midctl create -f FILE (- reads standard input)',
    );
  }
  return file;
}

/**
 * `bots add`'s roles. Teleport 15+ makes a bot without roles and has its guides add them with
 * `bots update --add-roles`; here a bot holds at least one from the start.
 */
export function requiredRoles(roles: string | undefined, botName: string): string {
  if (roles !== undefined) return roles;
  throw new ConfigError(
    'invalid_flag',
    `bots add needs --roles: a bot holds at least one role from the start (no bot without roles, as Teleport 15+ makes, to add roles to later); e.g. midctl bots add ${botName} --roles=access`,
  );
}

/** `--message` of `midctl lock`: the rule the service holds it to, refused here under the flag's name. */
export function lockMessage(value: string): string {
  const problem = lockMessageProblem(value);
  if (problem !== undefined) {
    throw new ConfigError('invalid_flag', `--message: got ${describeValue(value)}, ${problem}`);
  }
  return value;
}

/** How long a lock lasts, as `midctl lock --ttl` / `--expires` give it; neither: until unlocked. */
export function lockLifetime(flags: { ttl?: string | undefined; expires?: string | undefined }): {
  ttl_seconds?: number;
  expires?: string;
} {
  if (flags.ttl !== undefined && flags.expires !== undefined) {
    throw new ConfigError(
      'invalid_flag',
      '--ttl and --expires were both given; a lock lasts for --ttl (e.g. --ttl=1h) or until --expires (e.g. --expires=2026-12-01T09:00:00Z), so give one',
    );
  }
  if (flags.ttl !== undefined) {
    const ms = parseDuration(flags.ttl, '--ttl');
    if (ms <= 0 || ms > MAX_TTL_SECONDS * 1000) {
      throw new ConfigError(
        'invalid_flag',
        `--ttl: got ${JSON.stringify(flags.ttl)}, expected a lifetime longer than zero and at most ${formatDuration(MAX_TTL_SECONDS * 1000)}, e.g. --ttl=12h; leave it out for a lock that lasts until \`midctl unlock\``,
      );
    }
    return { ttl_seconds: Math.ceil(ms / 1000) };
  }
  if (flags.expires !== undefined) {
    if (!isoTime.safeParse(flags.expires).success) {
      throw new ConfigError(
        'invalid_flag',
        `--expires: got ${describeValue(flags.expires)}, expected an RFC 3339 time with its offset, e.g. --expires=2026-12-01T09:00:00Z`,
      );
    }
    return { expires: flags.expires };
  }
  return {};
}
