import { existsSync, realpathSync, statSync } from 'node:fs';
import path from 'node:path';
import type { BotConfig } from '../../bot/config/bot-config.js';
import { absolutePathSchema } from '../../bot/config/config-fields.js';
import {
  type CommandRunner,
  lookupGroup,
  lookupUser,
  runTool,
} from '../../bot/destinations/system-accounts.js';
import { AWS_REGION_NAME } from '../../core/aws-region.js';
import { formatDuration } from '../../core/duration.js';
import { ConfigError } from '../../core/errors.js';
import { parseWithSchema } from '../../core/schema.js';
import type { MidbotIo } from '../midbot-io.js';
import { buildStartConfig } from '../start-config.js';
import { renderSystemdTimer, renderSystemdUnit } from '../systemd-unit.js';
import { checkWholeFileTarget, writeWholeFile } from '../whole-file.js';

export interface InstallSystemdOptions {
  /** `-c FILE`: the config the service runs (required). */
  readonly config?: string;
  /** The user the service runs as: a name or uid that `getent passwd` knows (required). */
  readonly user?: string;
  /** @default the user's primary group */
  readonly group?: string;
  /** The unit's name, without `.service`. @default midbot */
  readonly name?: string;
  /** Write the unit into `systemdDirectory` instead of printing it. */
  readonly write?: boolean;
  /** With `write`, replace a unit of that name. */
  readonly force?: boolean;
  /** @default /etc/systemd/system */
  readonly systemdDirectory?: string;
  /** How to run midbot: the node binary and this script. @default this process's */
  readonly midbotCommand?: readonly string[];
  /** Runs `getent`. @default the system's */
  readonly run?: CommandRunner;
}

/** The overflow user, which systemd calls unsafe for a service. */
const NOBODY = 65534;

const UNIT_NAME = /^[A-Za-z0-9:_.\\-]{1,200}$/;

/** Folders a service must not be given whole: ReadWritePaths on them would undo the protection. */
const SYSTEM_TREES = [
  '/',
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/home',
  '/lib',
  '/opt',
  '/proc',
  '/root',
  '/run',
  '/sbin',
  '/srv',
  '/sys',
  '/usr',
  '/var',
];

/** Trees the service does not share with the host (`PrivateTmp=yes`). */
const PRIVATE_TREES = ['/tmp', '/var/tmp'];

/**
 * `midbot install systemd` (tbot's): the service unit that runs `midbot start -c FILE`, printed, or
 * written with `--write`. The config is checked as `midbot start` checks it (nothing is contacted);
 * a `oneshot: true` config gets a timer that starts the service every renewal_interval. A config that
 * cannot run under the unit's protection (a folder in /tmp, a whole system tree) is refused. What
 * would make the service fail to start is said before the unit (as `#` lines, which systemd
 * ignores): a missing folder, a config the user cannot read.
 */
export async function installSystemd(options: InstallSystemdOptions, io: MidbotIo): Promise<string> {
  if (options.config === undefined) {
    throw new ConfigError(
      'invalid_flag',
      '-c is required: the config file the service runs, e.g. -c /etc/midbot.yaml',
    );
  }
  if (options.user === undefined) {
    throw new ConfigError(
      'invalid_flag',
      '--user is required: the user the service runs as, e.g. --user=midbot (create it with useradd --system midbot)',
    );
  }
  if (options.force === true && options.write !== true) {
    throw new ConfigError(
      'invalid_flag',
      '--force replaces a unit that --write would write; give --write too, or leave --force out to print the unit',
    );
  }
  const run = options.run ?? runTool;
  const name = options.name ?? 'midbot';
  if (!UNIT_NAME.test(name) || name.endsWith('.service')) {
    throw new ConfigError(
      'invalid_flag',
      `--name: got ${JSON.stringify(name)}, expected a unit name without .service (letters, digits, : _ . - \\), e.g. --name=midbot-ci`,
    );
  }
  const user = await lookupUser(run, options.user, '--user');
  const group = await lookupGroup(
    run,
    options.group ?? String(user.primaryGid),
    options.group === undefined ? '--user' : '--group',
  );
  const configFile = safePath(path.resolve(io.cwd(), options.config), '-c');
  const { config } = buildStartConfig(options.config, {}, io);
  if (config.oneshot && config.storage.type === 'memory' && config.onboarding.join_method === 'token') {
    throw new ConfigError(
      'invalid_config',
      `${options.config}: oneshot with storage memory joins on every run, and a token joins once: the timer's second run would fail; set storage to a directory (each run then renews the identity there)`,
    );
  }
  const command = (options.midbotCommand ?? thisMidbot()).map((part) => safePath(part, 'the midbot command'));
  const folders = writableFolders(config);
  for (const folder of folders) {
    if (isIn(PRIVATE_TREES, folder)) {
      throw new ConfigError(
        'invalid_config',
        `${folder}: PrivateTmp gives the service its own /tmp, which readers of this machine's /tmp do not see; choose a folder outside /tmp`,
      );
    }
    if (SYSTEM_TREES.includes(folder)) {
      throw new ConfigError(
        'invalid_config',
        `${options.config}: the service would be given all of ${folder} to write; give midbot a folder of its own, e.g. ${ownFolderIn(folder)}`,
      );
    }
  }
  // Only a region's characters go into the unit (an empty variable counts as unset).
  const region = [io.env?.['AWS_REGION'], io.env?.['AWS_DEFAULT_REGION']].find(
    (value) => value !== undefined && AWS_REGION_NAME.test(value),
  );
  const notes = [
    ...[configFile, ...command]
      .filter((file) => isIn(PRIVATE_TREES, file))
      .map(
        (file) =>
          `${file} is in /tmp, and the service has a /tmp of its own (PrivateTmp) where it is not; move it out of /tmp and run this again.`,
      ),
    ...problemsStarting(config, configFile, folders, user.account, group.name),
    ...(usesSecretsManagerWithoutRegion(config) && region === undefined
      ? [
          `Secrets Manager outputs need a region: set destination.region, or run this with AWS_REGION set to put it in the unit.`,
        ]
      : []),
    ...(user.account.id === 0
      ? ['The service runs as root: give it a user of its own (see midbot init --bot-user).']
      : []),
    ...(user.account.id === NOBODY
      ? [
          `${user.account.name} is shared by unrelated services, whose files it could then read: give midbot a user of its own, e.g. useradd --system midbot.`,
        ]
      : []),
  ];
  const unit = renderSystemdUnit({
    oneshot: config.oneshot,
    name,
    description: `midbot, the Machine ID agent (${configFile})`,
    user: user.account.name,
    group: group.name,
    root: user.account.id === 0,
    execStart: [...command, 'start', '-c', configFile],
    writablePaths: folders,
    environment:
      usesSecretsManagerWithoutRegion(config) && region !== undefined ? [`AWS_REGION=${region}`] : [],
  });
  // A oneshot config runs from a timer, every renewal_interval, as the daemon would renew.
  const files = [
    { name: `${name}.service`, text: unit },
    ...(config.oneshot
      ? [
          {
            name: `${name}.timer`,
            text: renderSystemdTimer({
              name,
              description: `Runs ${name}.service every renewal_interval (${formatDuration(config.renewal_interval)})`,
              intervalMs: config.renewal_interval,
            }),
          },
        ]
      : []),
  ];
  const started = config.oneshot ? `${name}.timer` : name;
  if (options.write !== true) {
    const commented = notes.map((note) => `# NOTE: ${note}`);
    if (files.length === 1) return [...commented, unit].join('\n');
    return [...commented, ...files.map((file) => `# ${file.name}\n${file.text}`)].join('\n');
  }
  const written = writeUnitFiles(
    options.systemdDirectory ?? '/etc/systemd/system',
    files,
    options.force === true,
  );
  return [
    ...notes.map((note) => `NOTE: ${note}`),
    `Wrote ${written.join(' and ')}. Start it now and at every boot with:`,
    '  systemctl daemon-reload',
    `  systemctl enable --now ${started}`,
    `and follow it with: journalctl -u ${name} -f`,
    '',
  ].join('\n');
}

/**
 * Writes the unit files into `folder`, each whole and never through a symlink. All are checked before
 * any is written, so that a refusal never leaves a timer without its service.
 */
function writeUnitFiles(
  folder: string,
  files: ReadonlyArray<{ name: string; text: string }>,
  force: boolean,
): string[] {
  if (!existsSync(folder)) {
    throw new ConfigError(
      'invalid_flag',
      `--systemd-directory: ${folder} does not exist; is this a systemd host? (print the unit without --write to see it)`,
    );
  }
  const writes = files.map((file) => ({ path: path.join(folder, file.name), text: file.text }));
  const rules = (file: string) => ({ flag: file, symlink: 'refuse' as const });
  for (const write of writes) checkWholeFileTarget(write.path, rules(write.path));
  const present = force ? undefined : writes.find((write) => existsSync(write.path));
  if (present !== undefined) {
    throw new ConfigError(
      'invalid_flag',
      `${present.path}: exists already; give --force to replace it, or --name to write another unit`,
    );
  }
  for (const write of writes) {
    writeWholeFile(write.path, write.text, { mode: 0o644, ...rules(write.path) });
  }
  return writes.map((write) => write.path);
}

/** The storage folder and the folders of directory outputs. */
function writableFolders(config: BotConfig): string[] {
  return [
    ...(config.storage.type === 'directory' ? [config.storage.path] : []),
    ...config.outputs.flatMap((output) =>
      output.destination.type === 'directory' ? [output.destination.path] : [],
    ),
  ];
}

/** What would stop the service at its start, each with the command that fixes it. */
function problemsStarting(
  config: BotConfig,
  configFile: string,
  folders: readonly string[],
  user: { name: string; id: number },
  group: string,
): string[] {
  const notes: string[] = [];
  if (config.storage.type === 'memory') {
    notes.push(
      'storage is memory: after each restart the service joins again and needs a new token; set storage to a directory.',
    );
  }
  for (const folder of folders) {
    if (existsSync(folder)) continue;
    const storage = config.storage.type === 'directory' && config.storage.path === folder;
    notes.push(
      storage
        ? `${folder} does not exist, and the service may write only in folders that do: install -d -m 0700 -o ${user.name} -g ${group} ${folder}`
        : `${folder} does not exist, and the service may write only in folders that do: midbot init --destination-dir ${folder} --bot-user ${user.name} --reader-user READER`,
    );
  }
  const stats = statSync(configFile);
  if (user.id !== 0 && stats.uid !== user.id && (stats.mode & 0o044) === 0) {
    notes.push(
      `${user.name} cannot read ${configFile} (mode ${(stats.mode & 0o777).toString(8).padStart(4, '0')}, another owner): chown ${user.name} ${configFile}`,
    );
  }
  return notes;
}

function usesSecretsManagerWithoutRegion(config: BotConfig): boolean {
  return config.outputs.some(
    (output) => output.destination.type === 'aws_secrets_manager' && output.destination.region === undefined,
  );
}

/** An absolute path a unit can hold: no quote, `\`, control character or `$` (systemd's own rules). */
function safePath(file: string, what: string): string {
  const checked = parseWithSchema(absolutePathSchema, file, {
    code: 'invalid_flag',
    label: () => what,
    error: (code, message) => new ConfigError(code, message),
  });
  if (checked.includes('$')) {
    throw new ConfigError(
      'invalid_flag',
      `${what}: got ${JSON.stringify(file)}, which holds a $ that a unit file cannot hold in this place; move it`,
    );
  }
  return checked;
}

/** Where a folder of midbot's own would go in a system tree. */
function ownFolderIn(tree: string): string {
  if (tree === '/var') return '/var/lib/midbot';
  return `${tree === '/' ? '' : tree}/midbot`;
}

function isIn(trees: readonly string[], file: string): boolean {
  return trees.some((tree) => file === tree || file.startsWith(`${tree}/`));
}

/** The node binary and the real path of the script running now (not a symlink npm made to it). */
function thisMidbot(): string[] {
  const script = process.argv[1];
  if (script === undefined) throw new ConfigError('invalid_usage', 'cannot tell where midbot is installed');
  return [process.execPath, realpathSync(script)];
}
