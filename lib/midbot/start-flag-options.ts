import { type Command, Option } from 'commander';
import type { BotConfigFlags } from '../bot/config/start-flags.js';
import { type ModeFlags, START_MODES, type StartMode } from '../bot/config/start-modes.js';
import { ignoreEmptyEnvironment } from '../cli/empty-environment.js';
import { closestNames } from '../core/closest-names.js';
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
  /** Set from the environment variable's name when the token came from it. */
  tokenName?: string;
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
    .option('-d, --debug', 'verbose logs')
    .hook('preAction', tokenFromEnvironment);
  return addTbotFlagHints(command, TBOT_START_FLAG_HINTS);
}

/**
 * A token from `MID_BOT_TOKEN` is named so in messages, and an empty one (a CI secret that is not
 * set) counts as none.
 */
function tokenFromEnvironment(command: Command): void {
  ignoreEmptyEnvironment(command, ['token']);
  if (command.getOptionValueSource('token') === 'env') {
    command.setOptionValueWithSource('tokenName', TOKEN_ENV, 'env');
  }
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
    ...(flags.token === undefined || flags.tokenName === undefined ? {} : { tokenName: flags.tokenName }),
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
  destination?: string;
  app?: string;
  specificTlsExtensions?: boolean;
  kubernetesCluster?: string;
  disableExecPlugin?: boolean;
}

/** The flags only a mode has: typed before the mode, they are refused with where they go. */
const MODE_ONLY_FLAGS = [
  '--destination',
  '--app',
  '--specific-tls-extensions',
  '--kubernetes-cluster',
  '--disable-exec-plugin',
];

/**
 * Adds tbot's modes to `parent` (`start` or `configure`) as subcommands, each with the start flags
 * and its own. Start flags typed before the mode (`midbot start --oneshot identity ...`) count too;
 * the mode's own flags go after it. `run` gets every flag as typed, for those of `extend`.
 */
export function addModeCommands(
  parent: Command,
  describe: (summary: string, mode: StartMode) => string,
  run: (options: StartFlagOptions, mode: ModeChoice, flags: Record<string, unknown>) => Promise<void>,
  extend: (command: Command) => Command = (command) => command,
): void {
  adviseOnMisplacedWords(parent);
  for (const [mode, { aliases, summary }] of Object.entries(START_MODES) as Array<
    [StartMode, (typeof START_MODES)[StartMode]]
  >) {
    // The mode's own flags are checked by `modeOutput` rather than commander, so that a misspelt or
    // misplaced flag is named before "required option --destination not specified".
    const command = parent
      .command(mode)
      .aliases(aliases)
      .description(`${describe(summary, mode)} (also: ${aliases.join(', ')})`)
      .option(
        '--destination <uri>',
        '(required) where the output goes: file:///opt/machine-id (or a folder), aws-secrets-manager://SECRET-NAME, or memory://',
      );
    if (mode === 'app') {
      command
        .option('--app <name>', '(required) the app, as its resource is named (kind: app)')
        .option('--specific-tls-extensions', 'also write tls.crt, tls.key and tls.cas (specific_tls_naming)');
    }
    if (mode === 'kubernetes') {
      command
        .option(
          '--kubernetes-cluster <name>',
          '(required) the cluster, as its resource is named (kind: kube_cluster)',
        )
        .option(
          '--disable-exec-plugin',
          'accepted for tbot command lines: the kubeconfig always holds the credentials themselves',
        );
    }
    extend(addStartFlags(command, { destinationDir: false }));
    addTbotFlagHints(command, [...TBOT_MODE_FLAG_HINTS[mode], destinationDirHint(parent.name())]);
    command.action(async (_flags: ModeCommandFlags, self: Command) => {
      const flags = flagsAcrossMode(parent, self) as unknown as ModeCommandFlags;
      await run(
        startFlagOptions(flags),
        {
          mode,
          flags: {
            ...(flags.destination === undefined ? {} : { destination: flags.destination }),
            ...(flags.app === undefined ? {} : { app: flags.app }),
            ...(flags.specificTlsExtensions === undefined ? {} : { specificTlsExtensions: true }),
            ...(flags.kubernetesCluster === undefined ? {} : { kubernetesCluster: flags.kubernetesCluster }),
            ...(flags.disableExecPlugin === undefined ? {} : { disableExecPlugin: true }),
          },
        },
        flags as unknown as Record<string, unknown>,
      );
    });
  }
}

function destinationDirHint(verb: string) {
  return {
    flags: '--destination-dir <dir>',
    hint: `--destination-dir is for ${verb} without a mode; a mode writes its output to --destination (e.g. --destination /opt/machine-id)`,
  };
}

/**
 * The flags of a mode command, with those typed between `start` (or `configure`) and the mode: typed
 * after the mode wins, a default only where neither typed one, and `--ca-pin` gathered from both.
 */
function flagsAcrossMode(parent: Command, mode: Command): Record<string, unknown> {
  const typed = (command: Command) =>
    Object.fromEntries(
      Object.entries(command.opts<Record<string, unknown>>()).filter(([key]) =>
        ['cli', 'env'].includes(command.getOptionValueSource(key) ?? ''),
      ),
    );
  const before = typed(parent);
  if (before['destinationDir'] !== undefined) {
    throw new ConfigError(
      'invalid_flag',
      `--destination-dir is for ${parent.name()} without a mode; a mode writes its output to --destination (e.g. --destination ${String(before['destinationDir'])})`,
    );
  }
  const after = typed(mode);
  const pins = [before['caPin'], after['caPin']].flatMap((value) => (Array.isArray(value) ? value : []));
  // The token's name goes with the token that wins.
  const tokenName = after['token'] === undefined ? before['tokenName'] : after['tokenName'];
  return {
    ...mode.opts(),
    ...before,
    ...after,
    tokenName,
    ...(pins.length === 0 ? {} : { caPin: pins }),
  };
}

/**
 * Commander calls a word where a mode goes an argument too many, and a mode's flag typed before the
 * mode an unknown option; both get advice instead (`midbot start identiy --destination ./out`).
 * (`unknownOption` is commander's hook for that refusal: its message would name only the flag.)
 */
function adviseOnMisplacedWords(parent: Command): void {
  const hooks = parent as unknown as { unknownOption(flag: string): never };
  const refuse = hooks.unknownOption.bind(parent);
  hooks.unknownOption = (flag: string) => {
    const first = parent.args[0];
    if (first !== undefined && !first.startsWith('-')) throw unknownMode(parent.name(), first);
    const name = flag.split('=')[0] ?? flag;
    if (MODE_ONLY_FLAGS.includes(name)) {
      throw new ConfigError(
        'invalid_usage',
        `${name} is a flag of the modes: write it after the mode, e.g. midbot ${parent.name()} identity --destination /opt/machine-id`,
      );
    }
    return refuse(flag);
  };
}

/** `midbot start bogus`: a word where a mode goes. */
export function unknownMode(verb: string, word: string): ConfigError {
  const modes = Object.keys(START_MODES);
  const suggestion = closestNames(word, [
    ...modes,
    ...Object.values(START_MODES).flatMap((mode) => mode.aliases),
  ])[0];
  return new ConfigError(
    'invalid_usage',
    `midbot ${verb} has no mode ${JSON.stringify(word)}${suggestion === undefined ? '' : `; did you mean ${suggestion}?`} (the modes are ${modes.join(', ')}; flags alone, or -c FILE, need no mode)`,
  );
}
