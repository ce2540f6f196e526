import { type Command, Option } from 'commander';
import type { BotConfigFlags } from '../bot/config/start-flags.js';
import { type ModeFlags, START_MODES, type StartMode } from '../bot/config/start-modes.js';
import { ConfigError } from '../core/errors.js';
import { addTbotFlagHints, TBOT_MODE_FLAG_HINTS, TBOT_START_FLAG_HINTS } from './tbot-flag-hints.js';

/**
 * The flags `midbot start` and `midbot configure` share, with and without a mode
 * (`midbot start identity --destination ...`), and how they become a command's options.
 */

/** What commander hands the action of a command with the start flags. */
export interface StartFlags {
  config?: string;
  dataDir?: string;
  storage?: string;
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

/** The start flags, typed for the command functions. */
export interface StartFlagOptions extends BotConfigFlags {
  /** `-c FILE`. */
  readonly config?: string;
  readonly logFormat: 'text' | 'json';
  readonly debug?: boolean;
}

/** Where `--token` may come from instead, as tbot's TELEPORT_BOT_TOKEN (unlike argv, not shown by `ps`). */
export const TOKEN_ENV = 'MID_BOT_TOKEN';

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/**
 * Adds the start flags to `command`. `--destination-dir` (one identity output, replacing those of
 * `-c`) is for the command without a mode; a mode has `--destination` for its own output instead.
 */
export function addStartFlags(command: Command, options: { destinationDir: boolean }): Command {
  command
    .option('-c, --config <file>', 'config file (version: v2, or the v1 shape with a warning)')
    .option(
      '--data-dir <dir>',
      'where the bot keeps its own renewable identity (storage; one midbot at a time); without it: the storage of -c (a config file must set one), or memory with flags alone',
    )
    .option(
      '--storage <uri>',
      'the same as --data-dir, the tbot way: file:///var/lib/midbot (or a folder), or memory://',
    );
  if (options.destinationDir) {
    command.option(
      '--destination-dir <dir>',
      'write one identity output to this folder (replaces the outputs of -c)',
    );
  }
  command
    .addOption(
      new Option(
        '--token <token>',
        'the join token from `midctl bots add` (never printed), or an absolute path to a file holding it; not needed to resume from --data-dir. The environment variable keeps it out of the process list',
      ).env(TOKEN_ENV),
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
    .option('-d, --debug', 'verbose logs');
  return addTbotFlagHints(command, TBOT_START_FLAG_HINTS);
}

/** The start flags commander parsed, with the keys left out that were not given. */
export function startFlagOptions(flags: StartFlags): StartFlagOptions {
  return {
    logFormat: flags.logFormat,
    ...(flags.debug === undefined ? {} : { debug: flags.debug }),
    ...(flags.config === undefined ? {} : { config: flags.config }),
    ...(flags.dataDir === undefined ? {} : { dataDir: flags.dataDir }),
    ...(flags.storage === undefined ? {} : { storage: flags.storage }),
    ...(flags.destinationDir === undefined ? {} : { destinationDir: flags.destinationDir }),
    ...(flags.token === undefined ? {} : { token: flags.token }),
    ...(flags.joinMethod === undefined ? {} : { joinMethod: flags.joinMethod }),
    ...(flags.caPin === undefined ? {} : { caPins: flags.caPin }),
    ...(flags.authServer === undefined ? {} : { authServer: flags.authServer }),
    ...(flags.oneshot === undefined ? {} : { oneshot: flags.oneshot }),
    ...(flags.certificateTtl === undefined ? {} : { certificateTtl: flags.certificateTtl }),
    ...(flags.renewalInterval === undefined ? {} : { renewalInterval: flags.renewalInterval }),
    ...(flags.diagAddr === undefined ? {} : { diagAddr: flags.diagAddr }),
  };
}

/** A mode and its flags, as the mode commands hand them on. */
export interface ModeChoice {
  readonly mode: StartMode;
  readonly flags: ModeFlags;
}

interface ModeCommandFlags extends StartFlags {
  destination: string;
  app?: string;
  specificTlsExtensions?: boolean;
  kubernetesCluster?: string;
  disableExecPlugin?: boolean;
}

/**
 * Adds tbot's modes to `parent` (`start` or `configure`) as subcommands, each with the start flags
 * and its own. Start flags typed before the mode (`midbot start --oneshot identity ...`) count too.
 */
export function addModeCommands(
  parent: Command,
  describe: (summary: string, mode: StartMode) => string,
  run: (options: StartFlagOptions, mode: ModeChoice, command: Command) => Promise<void>,
  extend: (command: Command) => Command = (command) => command,
): void {
  for (const [mode, { aliases, summary }] of Object.entries(START_MODES) as Array<
    [StartMode, (typeof START_MODES)[StartMode]]
  >) {
    const command = parent
      .command(mode)
      .aliases(aliases)
      .description(describe(summary, mode))
      .requiredOption(
        '--destination <uri>',
        'where the output goes: file:///opt/machine-id (or a folder), aws-secrets-manager://SECRET-NAME, or memory://',
      );
    if (mode === 'app') {
      command
        .requiredOption('--app <name>', 'the app, as its resource is named (kind: app)')
        .option('--specific-tls-extensions', 'also write tls.crt, tls.key and tls.cas (specific_tls_naming)');
    }
    if (mode === 'kubernetes') {
      command
        .requiredOption(
          '--kubernetes-cluster <name>',
          'the cluster, as its resource is named (kind: kube_cluster)',
        )
        .option(
          '--disable-exec-plugin',
          'accepted for tbot command lines: the kubeconfig always holds the credentials themselves',
        );
    }
    extend(addStartFlags(command, { destinationDir: false }));
    addTbotFlagHints(command, TBOT_MODE_FLAG_HINTS[mode]);
    command.action(async (flags: ModeCommandFlags, self: Command) => {
      const before = flagsBeforeMode(parent);
      await run(
        startFlagOptions({ ...before, ...flags }),
        {
          mode,
          flags: {
            destination: flags.destination,
            ...(flags.app === undefined ? {} : { app: flags.app }),
            ...(flags.specificTlsExtensions === undefined ? {} : { specificTlsExtensions: true }),
            ...(flags.kubernetesCluster === undefined ? {} : { kubernetesCluster: flags.kubernetesCluster }),
            ...(flags.disableExecPlugin === undefined ? {} : { disableExecPlugin: true }),
          },
        },
        self,
      );
    });
  }
}

/** The options typed between `start` (or `configure`) and the mode; defaults left out. */
function flagsBeforeMode(parent: Command): Partial<StartFlags> {
  const given = parent.opts<Record<string, unknown>>();
  const typed = Object.entries(given).filter(([key]) => parent.getOptionValueSource(key) === 'cli');
  const destinationDir = typed.find(([key]) => key === 'destinationDir');
  if (destinationDir !== undefined) {
    throw new ConfigError(
      'invalid_flag',
      `--destination-dir is for ${parent.name()} without a mode; a mode writes its output to --destination (e.g. --destination ${String(destinationDir[1])})`,
    );
  }
  return Object.fromEntries(typed);
}
