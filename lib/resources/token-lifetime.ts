import { MAX_TTL_SECONDS } from '../api/wire-schemas.js';
import type { Token } from './token.js';

/** Tokens live at most this long, as `tokens add --ttl` allows. */
export const MAX_TOKEN_LIFETIME_MS = MAX_TTL_SECONDS * 1000;

/**
 * Where the bot a token names stands. A token may come before its bot (`bots add NAME --token`), and
 * `tokens add` works only for a bot that exists, so the way to a new token depends on it.
 */
export type TokenBotState = 'exists' | 'in_same_file' | 'absent';

/** A token's `metadata.expires` that cannot be accepted at the time it is created. */
export interface TokenLifetimeProblem {
  readonly code: 'token_expired' | 'token_expiry_required' | 'token_lifetime_too_long';
  /** What is wrong and the fix, after `metadata.expires: `; `bot` picks a way to a new token that works. */
  describe(bot: TokenBotState): string;
}

/** The command that makes the bot of `botName` a token, for a bot where it stands. */
function newTokenAdvice(botName: string, bot: TokenBotState): string {
  const tokensAdd = `\`midctl tokens add --type=bot --bot-name=${botName} --ttl=1h\``;
  switch (bot) {
    case 'exists':
      return `let ${tokensAdd} make one`;
    case 'in_same_file':
      return `leave the token out and, once the bot is created, let ${tokensAdd} make one`;
    case 'absent':
      return `let \`midctl bots add ${botName} --roles=ROLES --ttl=1h\` make the bot with a token of its own (bot "${botName}" does not exist yet, so \`midctl tokens add\` cannot)`;
  }
}

/**
 * A token created from a file must not have expired, and a token-method token, whose name is a
 * secret, must expire within the lifetime `tokens add` allows (SECURITY rule 7); an iam token names
 * allow rules, no secret, and may be open-ended. Checked by the auth service on every write and, with
 * the file's lines, by `midctl create` before it sends the file.
 */
export function tokenLifetimeProblem(token: Token, now: number): TokenLifetimeProblem | undefined {
  const botName = token.spec.bot_name;
  const expires = token.metadata.expires;
  if (expires !== undefined && Date.parse(expires) <= now) {
    return {
      code: 'token_expired',
      describe: (bot) =>
        `got ${expires}, a time that has passed; set a future time, or ${newTokenAdvice(botName, bot)}`,
    };
  }
  if (token.spec.join_method === 'iam') return undefined;
  if (expires === undefined) {
    return {
      code: 'token_expiry_required',
      describe: (bot) =>
        `got nothing, but a token-method token is a secret and must stop working; set metadata.expires (an RFC 3339 time, at most 366 days ahead), or ${newTokenAdvice(botName, bot)}`,
    };
  }
  if (Date.parse(expires) - now > MAX_TOKEN_LIFETIME_MS) {
    return {
      code: 'token_lifetime_too_long',
      describe: () => `got ${expires}, more than 366 days ahead; set an earlier time`,
    };
  }
  return undefined;
}
