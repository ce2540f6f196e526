import type { AddBotResponse } from '../../api/admin.js';
import { AccessDeniedError, ConfigError, NotFoundError } from '../../core/errors.js';
import type { AdminApi, ResourceJson } from '../admin-api.js';
import { botFacingAddress, type ServedAddresses } from '../bot-facing-address.js';
import { checkedName, newTokenTtlSeconds } from '../flag-values.js';
import { type JoinTicket, joinInstructions, joinInstructionsJson } from '../join-instructions.js';

export interface AddBotInstanceOptions {
  readonly bot: string;
  /** An existing token of the bot (an `iam` token joins any number of instances). */
  readonly token?: string;
  readonly ttl?: string;
  readonly format: 'text' | 'json';
}

/**
 * `midctl bots instances add BOT` (tctl's `bots instances add`): what a new host needs to join as one
 * more instance of an existing bot. A fresh single-use token by default; with `--token`, an existing
 * token of that bot, typically its `iam` token, which is not spent by a join.
 */
export async function addBotInstance(
  api: AdminApi,
  options: AddBotInstanceOptions,
  served: ServedAddresses | undefined,
  now: number,
): Promise<string> {
  const bot = checkedName(options.bot, 'bots instances add BOT');
  const ttl = newTokenTtlSeconds(options.ttl, options.token);
  const [token, status] = await Promise.all([
    options.token === undefined ? newToken(api, bot, ttl) : existingToken(api, bot, options.token, now),
    api.status(),
  ]);
  const ticket: JoinTicket = { bot, token, caPin: status.ca_pin, clusterName: status.cluster_name };
  const address = botFacingAddress(api.client.baseUrl, served);
  if (options.format === 'json') return joinInstructionsJson(ticket, address, []);
  return joinInstructions(ticket, address, now);
}

type TokenSummary = AddBotResponse['token'];

async function newToken(api: AdminApi, bot: string, ttlSeconds: number | undefined): Promise<TokenSummary> {
  // The service refuses a token for a bot that does not exist, so the bot is not read first.
  return summary(await api.addToken(bot, ttlSeconds));
}

async function existingToken(api: AdminApi, bot: string, name: string, now: number): Promise<TokenSummary> {
  const checked = checkedName(name, '--token', 'a name (not shown: it may be the token itself)');
  // Reading the bot refuses one that does not exist, in the service's words.
  const [, tokens] = await Promise.all([api.getResources('bot', bot), api.getResources('tokens')]);
  const found = tokens.find((token) => token.metadata.name === checked);
  if (found === undefined) {
    throw new NotFoundError(
      'token_not_found',
      `--token: no such join token (the name is not shown: it may be the token itself; a single-use token is gone once an instance joined with it); list them with \`midctl tokens ls\`, or leave out --token for a new single-use token of bot "${bot}"`,
    );
  }
  const token = summary(found);
  if (token.bot_name !== bot) {
    throw new AccessDeniedError(
      'token_for_another_bot',
      `--token: that token is for bot "${token.bot_name}", not "${bot}"; use a token of bot "${bot}" (\`midctl tokens ls\`), or leave out --token for a new one`,
    );
  }
  if (token.expires !== undefined && Date.parse(token.expires) <= now) {
    // No instance could join with it: printing it with a command to run would only defer the refusal.
    throw new ConfigError(
      'token_expired',
      `--token: that token of bot "${bot}" expired at ${token.expires}; leave out --token for a new one (\`midctl tokens rm\` removes the expired one)`,
    );
  }
  return token;
}

/** A token resource as the join instructions name it. */
function summary(token: ResourceJson): TokenSummary {
  const spec = token['spec'] as { bot_name: string; join_method: 'token' | 'iam' };
  const expires = (token.metadata as { expires?: string }).expires;
  return {
    name: token.metadata.name,
    join_method: spec.join_method,
    bot_name: spec.bot_name,
    ...(expires === undefined ? {} : { expires }),
  };
}
