import { Command, Option } from 'commander';
import { asOneErrorLine } from '../cli/one-error-line.js';
import { ConfigError } from '../core/errors.js';
import { VERSION } from '../version.js';
import { type InitOptions, init } from './commands/init.js';
import { type ProxyAppOptions, proxyApp } from './commands/proxy.js';
import { type StartOptions, start } from './commands/start.js';
import { type MidbotIo, midbotLogger } from './midbot-io.js';
import { addTbotFlagHints, TBOT_PROXY_FLAG_HINTS, TBOT_START_FLAG_HINTS } from './tbot-flag-hints.js';

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

interface StartFlags {
  config?: string;
  dataDir?: string;
  destinationDir?: string;
  token?: string;
  joinMethod?: string;
  caPin?: string[];
  authServer?: string;
  oneshot?: boolean;
  certificateTtl?: string;
  renewalInterval?: string;
  diagAddr?: string;
  logFormat: 'text' | 'json';
  debug?: boolean;
}

interface ProxyFlags {
  config?: string;
  destinationDir?: string;
  port?: string;
  appUri?: string;
  appCa?: string;
  logFormat: 'text' | 'json';
  debug?: boolean;
}

interface InitFlags {
  config?: string;
  destinationDir?: string;
  initDir?: string;
  owner?: string;
  botUser: string;
  readerUser: string;
}

/** The command functions the table calls; tests pass recorders to check the argv mapping. */
export interface MidbotCommands {
  start(options: StartOptions, io: MidbotIo): Promise<unknown>;
  init(options: InitOptions, io: MidbotIo): Promise<string>;
  proxyApp(options: ProxyAppOptions, io: MidbotIo): Promise<void>;
}

/**
 * The command table of `midbot`, the agent CLI (Teleport's `tbot`). Each action maps its flags onto a
 * typed call of one command function; only the entry turns errors into exit codes.
 */
export function buildMidbotProgram(
  io: MidbotIo,
  commands: MidbotCommands = { start, init, proxyApp },
): Command {
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
    .exitOverride();

  const startCommand = program
    .command('start')
    .description(
      'Join (or renew) and write every output, then keep renewing every renewal_interval; --oneshot runs once and exits',
    )
    .option('-c, --config <file>', 'config file (version: v2, or the v1 shape with a warning)')
    .option(
      '--data-dir <dir>',
      'where the bot keeps its own renewable identity (storage; one midbot at a time); without it: the storage of -c (a config file must set one), or memory with flags alone',
    )
    .option(
      '--destination-dir <dir>',
      'write one identity output to this folder (replaces the outputs of -c)',
    )
    .option(
      '--token <token>',
      'the join token from `midctl bots add` (never printed), or an absolute path to a file holding it; not needed to resume from --data-dir',
    )
    .option('--join-method <method>', 'token or iam')
    .option('--ca-pin <pin>', "the cluster's CA pin (sha256:...); repeat for several", collect)
    .option('--auth-server <address>', 'the auth service, host:port or https URL')
    .option('--oneshot', 'renew and write everything once, then exit')
    .option('--certificate-ttl <duration>', 'lifetime of output certificates, e.g. 1h')
    .option(
      '--renewal-interval <duration>',
      'time between renewals, e.g. 20m (at least 1m, shorter than the TTL)',
    )
    .option(
      '--diag-addr <host:port>',
      'serve /livez, /readyz and /metrics over HTTP here while running, e.g. 127.0.0.1:3001',
    )
    .addOption(
      new Option('--log-format <format>', 'log lines as text or json')
        .choices(['text', 'json'])
        .default('text'),
    )
    .option('-d, --debug', 'verbose logs')
    .action(async (flags: StartFlags) => {
      await commands.start(
        {
          logFormat: flags.logFormat,
          ...(flags.debug === undefined ? {} : { debug: flags.debug }),
          ...(flags.config === undefined ? {} : { config: flags.config }),
          ...(flags.dataDir === undefined ? {} : { dataDir: flags.dataDir }),
          ...(flags.destinationDir === undefined ? {} : { destinationDir: flags.destinationDir }),
          ...(flags.token === undefined ? {} : { token: flags.token }),
          ...(flags.joinMethod === undefined ? {} : { joinMethod: flags.joinMethod }),
          ...(flags.caPin === undefined ? {} : { caPins: flags.caPin }),
          ...(flags.authServer === undefined ? {} : { authServer: flags.authServer }),
          ...(flags.oneshot === undefined ? {} : { oneshot: flags.oneshot }),
          ...(flags.certificateTtl === undefined ? {} : { certificateTtl: flags.certificateTtl }),
          ...(flags.renewalInterval === undefined ? {} : { renewalInterval: flags.renewalInterval }),
          ...(flags.diagAddr === undefined ? {} : { diagAddr: flags.diagAddr }),
        },
        io,
      );
    });
  addTbotFlagHints(startCommand, TBOT_START_FLAG_HINTS);

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

/** Whether the command line asks for JSON logs, read before (or without) commander's parse. */
function asksForJsonLogs(args: readonly string[] | undefined): boolean {
  const all = args ?? [];
  return all.some(
    (arg, index) => arg === '--log-format=json' || (arg === '--log-format' && all[index + 1] === 'json'),
  );
}
