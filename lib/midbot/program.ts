import { Command, Option } from 'commander';
import { asOneErrorLine } from '../cli/one-error-line.js';
import { ConfigError } from '../core/errors.js';
import { VERSION } from '../version.js';
import { type Configured, type ConfigureOptions, configure, printConfigured } from './commands/configure.js';
import { type InitOptions, init } from './commands/init.js';
import { type InstallSystemdOptions, installSystemd } from './commands/install-systemd.js';
import { type ProxyAppOptions, proxyApp } from './commands/proxy.js';
import { type StartOptions, start } from './commands/start.js';
import { type MidbotIo, midbotLogger } from './midbot-io.js';
import {
  addModeCommands,
  addStartFlags,
  type StartFlags,
  startFlagOptions,
  unknownMode,
} from './start-flag-options.js';
import { addTbotFlagHints, TBOT_PROXY_FLAG_HINTS } from './tbot-flag-hints.js';

interface ProxyFlags {
  config?: string;
  destinationDir?: string;
  port?: string;
  appUri?: string;
  appCa?: string;
  logFormat: 'text' | 'json';
  debug?: boolean;
}

interface InstallSystemdFlags {
  config?: string;
  user?: string;
  group?: string;
  name: string;
  write?: boolean;
  force?: boolean;
  systemdDirectory: string;
}

interface InitFlags {
  config?: string;
  destinationDir?: string;
  initDir?: string;
  owner?: string;
  botUser: string;
  readerUser: string;
}

/** The command functions the table calls; tests pass recorders for some to check the argv mapping. */
export interface MidbotCommands {
  start(options: StartOptions, io: MidbotIo): Promise<unknown>;
  configure(options: ConfigureOptions, io: MidbotIo): Configured | Promise<Configured>;
  init(options: InitOptions, io: MidbotIo): Promise<string>;
  installSystemd(options: InstallSystemdOptions, io: MidbotIo): Promise<string>;
  proxyApp(options: ProxyAppOptions, io: MidbotIo): Promise<void>;
}

/**
 * The command table of `midbot`, the agent CLI (Teleport's `tbot`). Each action maps its flags onto a
 * typed call of one command function; only the entry turns errors into exit codes.
 */
export function buildMidbotProgram(io: MidbotIo, overrides: Partial<MidbotCommands> = {}): Command {
  const commands: MidbotCommands = { start, configure, init, installSystemd, proxyApp, ...overrides };
  const program = new Command('midbot')
    .description(
      'The Machine ID agent: joins the cluster as a bot, keeps its identity renewed, and writes short-lived certificates (outputs) for other tools.',
    )
    .version(VERSION, '-v, --version')
    // Before the subcommands, which copy these settings when they are added: usage errors are one
    // `ERROR:` line as every other error, and the entry maps CommanderError to the exit code.
    .configureOutput({
      writeOut: (text) => io.write(text),
      outputError: (text) => {
        const line = asOneErrorLine(text);
        // The flags were not parsed, but a log shipper reading --log-format json still wants JSON.
        if (!asksForJsonLogs(io.argv)) return io.writeLog(line);
        midbotLogger(io, 'json').error(line.replace(/^ERROR: /, ''), { code: 'invalid_usage' });
      },
    })
    .exitOverride()
    // Flags belong to the command before them, so that `start identity --token T` gives the token to
    // the mode, not to `start`. (`proxy` turns it off again: its flags may follow `app`.)
    .enablePositionalOptions();

  const startCommand = program
    .command('start')
    .description(
      'Join (or renew) and write every output, then keep renewing every renewal_interval; --oneshot runs once and exits. With a mode (identity, app, kubernetes) it writes that output too, as tbot start MODE does',
    )
    .usage('[options] | start identity|app|kubernetes --destination URI [options]');
  addStartFlags(startCommand, { destinationDir: true })
    .argument('[mode]')
    .action(async (mode: string | undefined, flags: StartFlags) => {
      if (mode !== undefined) throw unknownMode('start', mode);
      await commands.start(startFlagOptions(flags), io);
    });
  addModeCommands(
    startCommand,
    (summary, mode) =>
      `Join (or renew) and write ${summary} to --destination, with the outputs of -c if given, as tbot start ${mode} does`,
    async (options, mode) => {
      await commands.start({ ...options, mode }, io);
    },
  );

  const configureCommand = program
    .command('configure')
    .description(
      'Print the config file (v2 YAML) that midbot start would run with these flags, or write it with -o; with -c it also rewrites a v1 file as v2 (tbot configure)',
    )
    .usage('[options] | configure identity|app|kubernetes --destination URI [options]');
  addOutputFileFlag(addStartFlags(configureCommand, { destinationDir: true }))
    .argument('[mode]')
    .action(async (mode: string | undefined, flags: StartFlags & { output?: string }) => {
      if (mode !== undefined) throw unknownMode('configure', mode);
      const options = { ...startFlagOptions(flags), ...outputFileOf(flags) };
      printConfigured(await commands.configure(options, io), io);
    });
  addModeCommands(
    configureCommand,
    (summary, mode) =>
      `The config for ${summary} at --destination, added to the outputs of -c if given, as tbot configure ${mode} does`,
    async (options, mode, flags) => {
      const outputFile = outputFileOf(flags as { output?: string });
      printConfigured(await commands.configure({ ...options, mode, ...outputFile }, io), io);
    },
    addOutputFileFlag,
  );

  program
    .command('install')
    .description('Install midbot as a service: see `midbot install systemd --help`')
    .command('systemd')
    .description(
      'Print the systemd service that runs `midbot start -c FILE` as a daemon (or write it with --write), confined to the folders of the config (tbot install systemd)',
    )
    // Checked by the command, so that a misspelt flag is named before a missing one.
    .option(
      '-c, --config <file>',
      '(required) the config file the service runs (checked as midbot start checks it)',
    )
    .option('--user <user>', '(required) the user the service runs as (the --bot-user of midbot init)')
    .option('--group <group>', "the group the service runs as (default: the user's primary group)")
    .option('--name <name>', 'the unit name', 'midbot')
    .option('--write', 'write the unit file instead of printing it')
    .option('--force', 'with --write, replace a unit of that name')
    .option('--systemd-directory <dir>', 'where --write puts the unit', '/etc/systemd/system')
    .action(async (flags: InstallSystemdFlags) => {
      io.write(
        await commands.installSystemd(
          {
            ...(flags.config === undefined ? {} : { config: flags.config }),
            ...(flags.user === undefined ? {} : { user: flags.user }),
            name: flags.name,
            systemdDirectory: flags.systemdDirectory,
            ...(flags.group === undefined ? {} : { group: flags.group }),
            ...(flags.write === undefined ? {} : { write: flags.write }),
            ...(flags.force === undefined ? {} : { force: flags.force }),
          },
          io,
        ),
      );
    });

  program
    .command('init')
    .description(
      'Prepare a destination folder: the bot user may write it, the reader user may read it, nobody else (POSIX ACLs; run as root, or as the owner of an existing folder)',
    )
    .option('-c, --config <file>', 'take the folder from the one directory output of this config')
    .option('--destination-dir <dir>', 'the folder to prepare')
    .addOption(new Option('--init-dir <dir>', 'the same as --destination-dir (tbot spelling)').hideHelp())
    .option('--owner <user:group>', 'owner of the folder (default: the bot user and its group)')
    .requiredOption('--bot-user <user>', 'the user midbot runs as')
    .requiredOption('--reader-user <user>', 'the user of the service that reads the artifacts')
    .action(async (flags: InitFlags) => {
      if (flags.destinationDir !== undefined && flags.initDir !== undefined) {
        throw new ConfigError('invalid_flag', 'give --destination-dir or --init-dir, not both');
      }
      const destinationDir = flags.destinationDir ?? flags.initDir;
      io.write(
        await commands.init(
          {
            botUser: flags.botUser,
            readerUser: flags.readerUser,
            ...(flags.config === undefined ? {} : { config: flags.config }),
            ...(destinationDir === undefined ? {} : { destinationDir }),
            ...(flags.owner === undefined ? {} : { owner: flags.owner }),
          },
          io,
        ),
      );
    });

  const proxy = program
    .command('proxy')
    .enablePositionalOptions(false)
    .description(
      'Serve an app on 127.0.0.1 to programs that cannot present a client certificate (tbot proxy): see `midbot proxy app --help`',
    )
    .option('-c, --config <file>', 'find the folder in the application output of this config')
    .option('--destination-dir <dir>', 'the folder an application output writes (tlscert, key)')
    .addOption(
      new Option('--log-format <format>', 'log lines as text or json')
        .choices(['text', 'json'])
        .default('text'),
    )
    .option('-d, --debug', 'log each request answered (method, path without its query, status)')
    // Without a subcommand (`app` left out, so its flags look unknown here): say what to write.
    .argument('[words...]')
    .usage('[options] app [app options] <app-name>')
    .allowUnknownOption()
    .action(() => {
      throw new ConfigError(
        'invalid_usage',
        'midbot proxy needs what to serve: midbot proxy [--destination-dir DIR | -c FILE] app [--port N] --app-uri URL [--app-ca FILE] APP (the flags of app come after the word app)',
      );
    });
  addTbotFlagHints(proxy, TBOT_PROXY_FLAG_HINTS);
  proxy
    .command('app')
    .configureHelp({ showGlobalOptions: true })
    .description(
      "Listen on http://127.0.0.1:PORT (and [::1]:PORT) and send each request on to the app over HTTPS with the app's certificate from an application output (renewed certificates are picked up), until SIGINT or SIGTERM. Any program on this machine that can connect there can use the app as the bot.",
    )
    .argument('<app-name>', "the app, as in the output's app_name")
    .option('--port <port>', 'local port to listen on (default: any free port, printed)')
    .option(
      '--app-uri <url>',
      '(required) where the app serves HTTPS, its spec.uri, e.g. https://grafana.internal:3000',
    )
    .option(
      '--app-ca <file>',
      "CA certificate(s) (PEM) that signed the app's server certificate (default: the system's trusted CAs)",
    )
    .action(async (appName: string, _flags: unknown, command: Command) => {
      const flags = command.optsWithGlobals<ProxyFlags>();
      await commands.proxyApp(
        {
          appName,
          logFormat: flags.logFormat,
          ...(flags.debug === undefined ? {} : { debug: flags.debug }),
          ...(flags.config === undefined ? {} : { config: flags.config }),
          ...(flags.destinationDir === undefined ? {} : { destinationDir: flags.destinationDir }),
          ...(flags.port === undefined ? {} : { port: flags.port }),
          ...(flags.appUri === undefined ? {} : { appUri: flags.appUri }),
          ...(flags.appCa === undefined ? {} : { appCa: flags.appCa }),
        },
        io,
      );
    });

  program
    .command('version')
    .description("Print midbot's version (as --version does)")
    .action(() => io.write(`${VERSION}\n`));

  return program;
}

/** `-o FILE` of `midbot configure`. */
function addOutputFileFlag(command: Command): Command {
  return command.option(
    '-o, --output <file>',
    'write the config to this file (readable by you alone) instead of printing it',
  );
}

function outputFileOf(flags: { output?: string }): { outputFile?: string } {
  return flags.output === undefined ? {} : { outputFile: flags.output };
}

/** Whether the command line asks for JSON logs, read before (or without) commander's parse. */
function asksForJsonLogs(args: readonly string[] | undefined): boolean {
  const all = args ?? [];
  return all.some(
    (arg, index) => arg === '--log-format=json' || (arg === '--log-format' && all[index + 1] === 'json'),
  );
}
