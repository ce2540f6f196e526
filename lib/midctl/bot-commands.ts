import { type Command, Option } from 'commander';
import { parseOutputFormat } from '../cli/output-format.js';
import type { ServedAddresses } from './bot-facing-address.js';
import { addBotInstance } from './commands/bot-instances-add.js';
import {
  addBot,
  addToken,
  listBotInstances,
  listBots,
  removeBot,
  showBotInstance,
  type UpdateBotOptions,
  updateBot,
} from './commands/bots.js';
import { formatResources, removeResource } from './commands/resources.js';
import { checkedName, loginList, nameList, requiredRoles } from './flag-values.js';
import type { RunAdmin } from './run-admin.js';

/** What the bot commands need besides the service: how it listens (for `--auth-server`), and the time. */
export interface BotCommandContext {
  served(): ServedAddresses | undefined;
  now(): number;
}

/** `midctl bots …` (add, ls, rm, update, instances) and `midctl tokens …`, as tctl has them. */
export function addBotCommands(program: Command, run: RunAdmin, context: BotCommandContext): void {
  const bots = program.command('bots').description('Manage bots');
  bots
    .command('add')
    .description('Create a bot and a join token for it')
    .argument('<name>')
    .option('--roles <roles>', 'comma-separated roles the bot holds (required)')
    .option('--logins <logins>', 'comma-separated SSH logins (trait for {{internal.logins}})')
    .option('--token <name>', 'use this existing token (e.g. an iam token) instead of a new one')
    .option('--ttl <duration>', 'lifetime of the new token (default: 1h; not with --token)')
    .addOption(new Option('--format <format>').choices(['text', 'json']).default('text'))
    .action(
      (
        name: string,
        flags: { roles?: string; logins?: string; token?: string; ttl?: string; format: 'text' | 'json' },
      ) => {
        // Before anything is read or sent: a missing flag needs no data directory to be told.
        const roles = requiredRoles(flags.roles, name);
        return run((admin) =>
          addBot(
            admin,
            {
              name: checkedName(name, 'bots add NAME'),
              roles: nameList(roles, '--roles'),
              ...(flags.logins === undefined ? {} : { logins: loginList(flags.logins) }),
              ...(flags.token === undefined ? {} : { token: flags.token }),
              ttl: flags.ttl,
              format: flags.format,
            },
            context.served(),
            context.now(),
          ),
        );
      },
    );
  bots
    .command('ls')
    .description('List bots')
    .option('--format <format>', 'text, yaml or json', 'text')
    .action((flags: { format: string }) =>
      run((admin) => listBots(admin, parseOutputFormat(flags.format), context.now())),
    );
  bots
    .command('rm')
    .description('Delete a bot, its instances and its tokens')
    .argument('<name>')
    .action((name: string) => run((admin) => removeBot(admin, name, context.now())));
  bots
    .command('update')
    .description("Change a bot's roles and SSH logins")
    .argument('<name>')
    .option('--add-roles <roles>', 'comma-separated roles to add')
    .option('--set-roles <roles>', 'comma-separated roles that replace the current ones')
    .option('--add-logins <logins>', 'comma-separated SSH logins to add (trait for {{internal.logins}})')
    .option('--set-logins <logins>', 'comma-separated SSH logins that replace the current ones')
    .action((name: string, flags: UpdateBotOptions) => run((admin) => updateBot(admin, name, flags)));
  const instances = bots
    .command('instances')
    .description('Inspect bot instances (one per fresh join), or let one more join');
  instances
    .command('ls')
    .description('List bot instances, of one bot or all')
    .argument('[bot]')
    .option('--format <format>', 'text, yaml or json', 'text')
    .action((bot: string | undefined, flags: { format: string }) =>
      run((admin) => listBotInstances(admin, bot, parseOutputFormat(flags.format), context.now())),
    );
  instances
    .command('add')
    .description(
      'Print what a new host needs to join as one more instance of an existing bot: a new join token (or --token) and the midbot command',
    )
    .argument('<bot>')
    .option('--token <name>', 'use this existing token of the bot (e.g. its iam token) instead of a new one')
    .option('--ttl <duration>', 'lifetime of the new token (default: 1h; not with --token)')
    .addOption(new Option('--format <format>').choices(['text', 'json']).default('text'))
    .action((bot: string, flags: { token?: string; ttl?: string; format: 'text' | 'json' }) =>
      run((admin) =>
        addBotInstance(
          admin,
          {
            bot,
            ...(flags.token === undefined ? {} : { token: flags.token }),
            ...(flags.ttl === undefined ? {} : { ttl: flags.ttl }),
            format: flags.format,
          },
          context.served(),
          context.now(),
        ),
      ),
    );
  instances
    .command('show')
    .description('Show one bot instance with its latest authentications and heartbeats')
    .argument('<bot/id>')
    .option('--format <format>', 'yaml or json', 'yaml')
    .action((ref: string, flags: { format: string }) =>
      run((admin) => showBotInstance(admin, ref, parseOutputFormat(flags.format), context.now())),
    );

  const tokens = program.command('tokens').description('Manage join tokens');
  tokens
    .command('add')
    .description('Create a single-use join token for a bot')
    .requiredOption('--type <type>', 'token type: bot (required)')
    .requiredOption('--bot-name <name>', 'the bot that joins with it (required)')
    .option('--ttl <duration>', 'lifetime', '1h')
    .addOption(new Option('--format <format>').choices(['text', 'json']).default('text'))
    .action((flags: { type: string; botName: string; ttl: string; format: 'text' | 'json' }) =>
      run((admin) => addToken(admin, flags, context.now())),
    );
  tokens
    .command('ls')
    .description('List join tokens')
    .option('--format <format>', 'text, yaml or json', 'text')
    .action((flags: { format: string }) =>
      run(async (admin) =>
        formatResources(
          'tokens',
          await admin.getResources('tokens'),
          parseOutputFormat(flags.format),
          context.now(),
        ),
      ),
    );
  tokens
    .command('rm')
    .description('Delete a join token')
    .argument('<name>')
    .action((name: string) =>
      run((admin) =>
        removeResource(
          admin,
          // Checked here, not as part of token/NAME, so that a refusal names what was typed.
          `token/${checkedName(name, 'tokens rm NAME', 'a name (not shown: it may be the token itself)')}`,
          context.now(),
        ),
      ),
    );
}
