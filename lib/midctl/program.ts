import { type Command, Option } from 'commander';
import { LOCAL_AUTH_PORT } from '../api/local-auth-port.js';
import { ignoreEmptyEnvironment } from '../cli/empty-environment.js';
import { asOneErrorLine } from '../cli/one-error-line.js';
import { parseOutputFormat } from '../cli/output-format.js';
import { UnknownFlagFirstCommand } from '../cli/unknown-flag-first-command.js';
import { ConfigError } from '../core/errors.js';
import { createLogger } from '../core/logger.js';
import { VERSION } from '../version.js';
import { AdminApi } from './admin-api.js';
import {
  connectAdmin,
  explainAdminCredentialRefusal,
  explainAwsRefusal,
  servedAddresses,
} from './admin-connection.js';
import { addBotCommands } from './bot-commands.js';
import { EXPORT_TYPES, type ExportType, exportCas } from './commands/auth-export.js';
import { authStart } from './commands/auth-start.js';
import { listEvents } from './commands/events.js';
import { createResources, getResources, readCreateInput, removeResource } from './commands/resources.js';
import { showStatus } from './commands/status.js';
import { showVersion } from './commands/version.js';
import { withDebugFlagHint } from './debug-flag-hint.js';
import { createFile, eventLimit, eventType } from './flag-values.js';
import { addLockCommands } from './lock-commands.js';

/** What the commands need from the outside world; the entry passes the real ones, tests their own. */
export interface MidctlIo {
  write(text: string): void;
  /**
   * Lines for the person at the terminal beside a command's output (stderr), so that the output stays
   * what a program reading it expects: a note beside a JSON listing.
   */
  note(text: string): void;
  readStdin(): string;
  now(): number;
  /** Resolves when the process is asked to stop (SIGINT/SIGTERM); used by long-running commands. */
  untilStopped(): Promise<void>;
}

interface GlobalFlags {
  authServer?: string;
  dataDir?: string;
  awsIam?: boolean;
  awsRegion?: string;
}

/**
 * The command table of `midctl`, the admin CLI (Teleport's `tctl`). Each action parses its flags into a
 * typed call of one command function; only the entry turns errors into exit codes.
 */
export function buildMidctlProgram(io: MidctlIo): Command {
  const program = new UnknownFlagFirstCommand('midctl')
    .description(
      'Administer a Machine ID cluster: the auth service, roles, bots, join tokens, bot instances and the audit log.',
    )
    .version(VERSION, '-v, --version')
    .addOption(
      new Option('--auth-server <url>', 'address of the auth service (host:port or https URL)').env(
        'MID_AUTH_SERVER',
      ),
    )
    .addOption(
      new Option(
        '-d, --data-dir <dir>',
        "the auth service's data directory (admin credential, CA, address)",
      ).env('MID_DATA_DIR'),
    )
    .addOption(
      new Option(
        '--aws-iam',
        'sign admin calls with your AWS credentials (SigV4), for the auth service deployed on AWS',
      ),
    )
    .addOption(
      new Option(
        '--aws-region <region>',
        "region to sign for with --aws-iam (default: the region in the API's execute-api address)",
      ),
    )
    .hook('preAction', (self) => ignoreEmptyEnvironment(self, ['authServer', 'dataDir']))
    // Set before the commands are added: they copy the program's output settings when created.
    .configureOutput({
      writeOut: (text) => io.write(text),
      outputError: (text, write) => write(`${asOneErrorLine(withDebugFlagHint(text))}\n`),
    });

  const globals = (): GlobalFlags => program.opts<GlobalFlags>();
  const api = () => new AdminApi(connectAdmin(globals()));
  const run = async (work: (admin: AdminApi) => Promise<string>) => {
    const admin = api();
    try {
      io.write(await work(admin));
    } catch (error) {
      throw globals().awsIam ? explainAwsRefusal(error) : explainAdminCredentialRefusal(error, globals());
    } finally {
      admin.client.close();
    }
  };

  const auth = program
    .command('auth')
    .description('Run the auth service, or export the public half of its CAs');
  auth
    .command('start')
    .description(
      'Start the auth service with its state in a local data directory (creates the CAs on first start)',
    )
    .option(
      '--listen <host:port>',
      `address to listen on (default: where the last start of this data directory listened, else 127.0.0.1:${LOCAL_AUTH_PORT})`,
    )
    .option(
      '--cluster-name <name>',
      'name of a new cluster (an existing data directory keeps its own and refuses a different one)',
    )
    .addOption(
      new Option('--suite <suite>', 'signature suite of a new cluster').choices(['balanced', 'legacy']),
    )
    .option(
      '--public-addr <name...>',
      'DNS names or IPs other hosts reach the service by: its certificate names them, and `bots add` gives bots the first (default: those of the last start)',
    )
    .addOption(
      new Option('--log-format <format>', 'log lines as text or json')
        .choices(['text', 'json'])
        .default('text'),
    )
    .option('--debug', 'verbose logs')
    .addOption(
      new Option(
        '--insecure-sts-endpoint-for-tests <url>',
        'TESTS ONLY: send iam join checks to this loopback STS emulator instead of AWS',
      ).hideHelp(),
    )
    .action(
      async (flags: {
        listen?: string;
        clusterName?: string;
        suite?: 'balanced' | 'legacy';
        publicAddr?: string[];
        logFormat: 'text' | 'json';
        debug?: boolean;
        insecureStsEndpointForTests?: string;
      }) => {
        const dataDir = globals().dataDir;
        if (dataDir === undefined)
          throw new ConfigError(
            'missing_data_dir',
            'auth start needs --data-dir DIR (or MID_DATA_DIR) for its state and keys',
          );
        const logger = createLogger({ format: flags.logFormat, level: flags.debug ? 'debug' : 'info' });
        const server = await authStart(
          {
            dataDir,
            ...(flags.listen === undefined ? {} : { listen: flags.listen }),
            ...(flags.publicAddr === undefined ? {} : { publicAddrs: flags.publicAddr }),
            ...(flags.clusterName === undefined ? {} : { clusterName: flags.clusterName }),
            ...(flags.suite === undefined ? {} : { suite: flags.suite }),
            ...(flags.insecureStsEndpointForTests === undefined
              ? {}
              : { stsEndpointOverrideForTests: flags.insecureStsEndpointForTests }),
          },
          logger,
        );
        await io.untilStopped();
        logger.info('auth service stopping');
        await server.close();
      },
    );

  auth
    .command('export')
    .description(
      "Print the public half of the cluster's CAs, for servers that must trust it (as tctl auth export)",
    )
    .addOption(
      new Option(
        '--type <type>',
        "user: SSH user CA keys for sshd's TrustedUserCAKeys; host: @cert-authority lines for known_hosts; tls-user / tls-host: PEM CA certificates (default: both SSH CAs, as tctl prints them)",
      ).choices(EXPORT_TYPES),
    )
    .action((flags: { type?: ExportType }) => run((admin) => exportCas(admin, flags.type)));

  program
    .command('version')
    .description(
      'Print the version of midctl and of the Node.js running it (--version prints the version alone)',
    )
    .action(() => io.write(showVersion(process.version)));

  program
    .command('status')
    .description('Show the cluster name, version, signature suite and CA pin')
    .addOption(new Option('--format <format>').choices(['text', 'json']).default('text'))
    .action((flags: { format: 'text' | 'json' }) =>
      run((admin) => showStatus(admin, flags.format, servedAddresses(globals()))),
    );

  program
    .command('create')
    .description('Create resources from a YAML file (several documents separated by ---)')
    .argument('[file]', 'the same as --file (as tctl create takes it)')
    .option('-f, --file <file>', 'YAML file, or - for standard input')
    .option('--force', 'replace resources that already exist', false)
    .action((positional: string | undefined, flags: { file?: string; force: boolean }) => {
      const input = readCreateInput(createFile(positional, flags.file), io.readStdin);
      return run((admin) => createResources(admin, input, flags.force, io.now()));
    });

  program
    .command('get')
    .description('Show resources: roles, bots, tokens, apps, kube_clusters, nodes, bot_instance[/BOT[/ID]]')
    .argument('<kind[/name]>', 'what to show, e.g. roles, role/access, bot_instance/robot')
    // YAML by default, as `tctl get`: what it prints, `create -f` reads back (export, edit, re-create).
    .option('--format <format>', 'yaml (what create -f reads back), text or json', 'yaml')
    .action((ref: string, flags: { format: string }) =>
      run((admin) => getResources(admin, ref, parseOutputFormat(flags.format), io.now())),
    );

  program
    .command('rm')
    .description('Delete a resource, e.g. role/access or bot_instance/robot/ID')
    .argument('<kind/name>')
    .action((ref: string) => run((admin) => removeResource(admin, ref, io.now())));

  addLockCommands(program, run);

  // tctl's listings of the resources bots reach: `get KIND --format text` under the names tctl uses.
  for (const [group, kind, what] of [
    ['nodes', 'nodes', 'registered OpenSSH nodes'],
    ['apps', 'apps', 'registered applications'],
    ['kube', 'kube_clusters', 'registered Kubernetes clusters'],
  ] as const) {
    program
      .command(group)
      .description(`List ${what} (as tctl ${group} ls)`)
      .command('ls')
      .description(`List ${what}: the same as get ${kind} --format text`)
      .addOption(new Option('--format <format>').choices(['text', 'json', 'yaml']).default('text'))
      .action((flags: { format: string }) =>
        run((admin) => getResources(admin, kind, parseOutputFormat(flags.format), io.now())),
      );
  }

  addBotCommands(program, run, {
    served: () => servedAddresses(globals()),
    now: () => io.now(),
  });

  const events = program.command('events').description('Read the audit log');
  events
    .command('ls')
    .description('List audit events, newest first')
    .option('--limit <n>', 'how many (1 to 1000)', eventLimit, 50)
    .option('--type <type>', 'only this event type (e.g. bot.join) or category (e.g. bot)', eventType)
    .option('--bot <name>', 'only events of this bot')
    .addOption(new Option('--format <format>').choices(['text', 'json']).default('text'))
    .action((flags: { limit: number; type?: string; bot?: string; format: 'text' | 'json' }) =>
      run((admin) => listEvents(admin, flags, io.note)),
    );

  return program;
}
