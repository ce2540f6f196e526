import { ConfigError, MidError } from '../core/errors.js';
import { TOKEN_ENV } from './start-flag-options.js';

/**
 * tbot's variable for the join token. midbot never reads it: on a machine that runs a tbot too, it
 * holds that tbot's Teleport token, which midbot must not spend or send. It only says so when it has
 * no token of its own, as a user coming from tbot may have set that variable for midbot.
 */
export const TELEPORT_TOKEN_ENV = 'TELEPORT_BOT_TOKEN';

/**
 * The refusals for want of a join token: the flags' (`--token is required ...`), a file's
 * (`onboarding.token: got nothing, required ...`, named `(or --token)` when flags may fill it in), and
 * the agent's, when it must join without one.
 */
const TOKEN_MISSING = /(^|; )--token is required|onboarding\.token(?: \(or --token\))?: got nothing/;

function lacksJoinToken(error: unknown): error is MidError {
  if (!(error instanceof MidError)) return false;
  if (error.code === 'join_token_required') return true;
  return error.code === 'invalid_config' && TOKEN_MISSING.test(error.message);
}

/**
 * `error`, told that `TELEPORT_BOT_TOKEN` is set when midbot failed for want of a join token and the
 * environment holds that variable; any other error as it is.
 */
export function withTeleportTokenNote(
  error: unknown,
  env: Readonly<Record<string, string | undefined>> | undefined,
): unknown {
  if (!env?.[TELEPORT_TOKEN_ENV] || !lacksJoinToken(error)) return error;
  const end = /[.!?]$/.test(error.message) ? '' : '.';
  return new ConfigError(
    error.code,
    `${error.message}${end} ${TELEPORT_TOKEN_ENV} is set, but midbot reads ${TOKEN_ENV} (it leaves ${TELEPORT_TOKEN_ENV} to tbot): put the token printed by \`midctl bots add\` in ${TOKEN_ENV}, or pass it with --token`,
    { cause: error },
  );
}
