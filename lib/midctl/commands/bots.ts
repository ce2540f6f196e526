import type { UpdateBotRequest } from '../../api/admin.js';
import type { OutputFormat } from '../../cli/output-format.js';
import { ConfigError, NotFoundError } from '../../core/errors.js';
import type { AdminApi } from '../admin-api.js';
import { botFacingAddress, type ServedAddresses } from '../bot-facing-address.js';
import { checkedName, loginList, nameList, newTokenTtlSeconds } from '../flag-values.js';
import { type JoinTicket, joinInstructions, joinInstructionsJson } from '../join-instructions.js';
import { principalLimitWarnings, warningLines } from '../principal-limit-warnings.js';
import { botRemovalNote } from '../running-agent-notes.js';
import { describeTtl, formatNamedResource, formatResources } from './resources.js';

export interface AddBotOptions {
  readonly name: string;
  readonly roles: string[];
  readonly logins?: string[];
  readonly token?: string;
  readonly ttl?: string;
  readonly format: 'text' | 'json';
}

/**
 * `midctl bots add NAME --roles=R1,R2`. `served` is how the local auth service listens, when known: it
 * decides which address the printed midbot command uses.
 */
export async function addBot(
  api: AdminApi,
  options: AddBotOptions,
  served: ServedAddresses | undefined,
  now: number,
): Promise<string> {
  const ttl = newTokenTtlSeconds(options.ttl, options.token);
  const response = await api.addBot({
    name: options.name,
    roles: options.roles,
    ...(options.logins === undefined ? {} : { logins: options.logins }),
    ...(options.token === undefined ? {} : { token_name: options.token }),
    ...(ttl === undefined ? {} : { ttl_seconds: ttl }),
  });
  const warnings = await principalLimitWarnings(api);
  const address = botFacingAddress(api.client.baseUrl, served);
  const ticket: JoinTicket = {
    bot: options.name,
    token: response.token,
    caPin: response.ca_pins[0] ?? '',
    clusterName: response.cluster_name,
  };
  if (options.format === 'json') return joinInstructionsJson(ticket, address, warnings);
  return joinInstructions(ticket, address, now) + warningLines(warnings);
}

export async function listBots(api: AdminApi, format: OutputFormat, now: number): Promise<string> {
  return formatResources('bots', await api.getResources('bots'), format, now);
}

/** `midctl bots rm NAME`: says so when an agent of the bot is still running. */
export async function removeBot(api: AdminApi, name: string, now: number): Promise<string> {
  const note = await botRemovalNote(api, checkedName(name, 'bots rm NAME'), now);
  await api.deleteResource('bot', name);
  return `bot "${name}" has been deleted, with its instances and tokens\n${note === undefined ? '' : `NOTE: ${note}\n`}`;
}

export interface UpdateBotOptions {
  readonly addRoles?: string;
  readonly setRoles?: string;
  readonly addLogins?: string;
  readonly setLogins?: string;
}

/** One of a pair of flags (`--add-roles`, `--set-roles`) or neither; both at once contradict each other. */
function refuseBoth(add: string | undefined, set: string | undefined, what: string): void {
  if (add !== undefined && set !== undefined) {
    throw new ConfigError(
      'invalid_flag',
      `--add-${what} and --set-${what} were both given; use --add-${what} to add to the bot's ${what}, or --set-${what} to replace them`,
    );
  }
}

/** The request a `bots update` asks for, with each flag's values checked and named as typed. */
function updateBotRequest(options: UpdateBotOptions): UpdateBotRequest {
  refuseBoth(options.addRoles, options.setRoles, 'roles');
  refuseBoth(options.addLogins, options.setLogins, 'logins');
  const request: UpdateBotRequest = {
    ...(options.addRoles === undefined ? {} : { add_roles: nameList(options.addRoles, '--add-roles') }),
    ...(options.setRoles === undefined ? {} : { set_roles: nameList(options.setRoles, '--set-roles') }),
    ...(options.addLogins === undefined ? {} : { add_logins: loginList(options.addLogins, '--add-logins') }),
    ...(options.setLogins === undefined ? {} : { set_logins: loginList(options.setLogins, '--set-logins') }),
  };
  if (Object.keys(request).length === 0) {
    throw new ConfigError(
      'invalid_flag',
      'nothing to change; give --add-roles or --set-roles, --add-logins or --set-logins (one of each at most)',
    );
  }
  return request;
}

/** `midctl bots update NAME --add-roles=R | --set-roles=R, --add-logins=L | --set-logins=L`. */
export async function updateBot(api: AdminApi, name: string, options: UpdateBotOptions): Promise<string> {
  const bot = await api.updateBot(checkedName(name, 'bots update NAME'), updateBotRequest(options));
  const spec = bot['spec'] as { roles?: string[]; traits?: Array<{ name: string; values: string[] }> };
  const logins = spec.traits?.find((trait) => trait.name === 'logins')?.values ?? [];
  const warnings = await principalLimitWarnings(api);
  return (
    `bot "${name}" now has roles: ${(spec.roles ?? []).join(', ')}; logins trait ({{internal.logins}}): ${logins.length === 0 ? '(none)' : logins.join(', ')}\n` +
    warningLines(warnings)
  );
}

export async function listBotInstances(
  api: AdminApi,
  bot: string | undefined,
  format: OutputFormat,
  now: number,
): Promise<string> {
  const names = bot === undefined ? [] : [checkedName(bot, 'bots instances ls BOT')];
  const resources = await api.getResources('bot_instance', ...names);
  return formatResources('bot_instance', resources, format, now);
}

export async function showBotInstance(
  api: AdminApi,
  ref: string,
  format: OutputFormat,
  now: number,
): Promise<string> {
  const [bot, id, ...rest] = ref.split('/');
  if (bot === undefined || id === undefined || rest.length > 0 || bot === '' || id === '') {
    throw new ConfigError(
      'invalid_reference',
      `"${ref}" is not BOT/ID; list instance ids with \`midctl bots instances ls\``,
    );
  }
  const what = 'bots instances show BOT/ID';
  const [instance] = await api.getResources(
    'bot_instance',
    checkedName(bot, what, JSON.stringify(ref)),
    checkedName(id, what, JSON.stringify(ref)),
  );
  if (instance === undefined)
    throw new NotFoundError('instance_not_found', `bot instance "${ref}" does not exist`);
  return formatNamedResource('bot_instance', instance, format === 'text' ? 'yaml' : format, now);
}

export async function addToken(
  api: AdminApi,
  options: { type: string; botName: string; ttl?: string; format: 'text' | 'json' },
  now: number,
): Promise<string> {
  if (options.type !== 'bot')
    throw new ConfigError('invalid_flag', `--type: got "${options.type}", only "bot" tokens exist`);
  const token = await api.addToken(
    checkedName(options.botName, '--bot-name'),
    newTokenTtlSeconds(options.ttl, undefined),
  );
  const expires = (token.metadata as { expires?: string }).expires;
  if (options.format === 'json')
    return `${JSON.stringify({ token: token.metadata.name, bot: options.botName, expires }, null, 2)}\n`;
  return `The bot token: ${token.metadata.name}\nThis token ${describeTtl(expires, now)}.\nUse it with: midbot start --token=${token.metadata.name} ...\n`;
}
