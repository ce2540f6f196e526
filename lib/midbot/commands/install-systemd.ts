import { existsSync, lstatSync, realpathSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../core/errors.js';
import type { MidbotIo } from '../midbot-io.js';
import { buildStartConfig } from '../start-config.js';
import { renderSystemdUnit } from '../systemd-unit.js';

export interface InstallSystemdOptions {
  /** `-c FILE`: the config the service runs. */
  readonly config: string;
  readonly user: string;
  /** @default the user's name */
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
}

const USER_OR_GROUP = /^(?:[A-Za-z_][A-Za-z0-9_.-]{0,31}|\d{1,10})$/;
const UNIT_NAME = /^[A-Za-z0-9:_.\\-]{1,200}$/;

/**
 * `midbot install systemd` (tbot's): the service unit that runs `midbot start -c FILE`, printed, or
 * written with `--write`. The config is checked as `midbot start` checks it (nothing is contacted),
 * and a config that cannot run as a daemon (`oneshot: true`) is refused. Returns what to print.
 */
export function installSystemd(options: InstallSystemdOptions, io: MidbotIo): string {
  const user = checked(options.user, '--user', USER_OR_GROUP, 'a user name or uid, e.g. --user=midbot');
  const group = checked(options.group ?? user, '--group', USER_OR_GROUP, 'a group name or gid');
  const name = checked(
    (options.name ?? 'midbot').replace(/\.service$/, ''),
    '--name',
    UNIT_NAME,
    'a unit name (letters, digits, : _ . - \\), e.g. --name=midbot-ci',
  );
  const configFile = path.resolve(io.cwd(), options.config);
  const { config } = buildStartConfig(options.config, {}, io);
  if (config.oneshot) {
    throw new ConfigError(
      'invalid_config',
      `${options.config}: oneshot: true: a service runs midbot as a daemon, which oneshot would end after one run (and systemd would start again and again); remove oneshot, or run \`midbot start --oneshot -c FILE\` from a systemd timer or cron instead`,
    );
  }
  const warnings =
    config.storage.type === 'memory'
      ? [
          '# WARNING: storage is memory: after each restart this service joins again and needs a new token; set storage to a directory.',
        ]
      : [];
  const unit = renderSystemdUnit({
    description: `midbot, the Machine ID agent (${configFile})`,
    user,
    group,
    execStart: [...(options.midbotCommand ?? thisMidbot()), 'start', '-c', configFile],
    writablePaths: [
      ...(config.storage.type === 'directory' ? [config.storage.path] : []),
      ...config.outputs.flatMap((output) =>
        output.destination.type === 'directory' ? [output.destination.path] : [],
      ),
    ],
  });
  if (options.write !== true) return [...warnings, unit].join('\n');
  const file = path.join(options.systemdDirectory ?? '/etc/systemd/system', `${name}.service`);
  writeUnit(file, unit, options.force === true);
  return [
    ...warnings,
    `Wrote ${file}. Start it now and at every boot with:`,
    '  systemctl daemon-reload',
    `  systemctl enable --now ${name}`,
    `and follow it with: journalctl -u ${name} -f`,
    '',
  ].join('\n');
}

function checked(value: string, flag: string, pattern: RegExp, expected: string): string {
  if (pattern.test(value)) return value;
  throw new ConfigError('invalid_flag', `${flag}: got ${JSON.stringify(value)}, expected ${expected}`);
}

/** The node binary and the real path of the script running now (not a symlink npm made to it). */
function thisMidbot(): string[] {
  const script = process.argv[1];
  if (script === undefined) throw new ConfigError('invalid_usage', 'cannot tell where midbot is installed');
  return [process.execPath, realpathSync(script)];
}

function writeUnit(file: string, unit: string, force: boolean): void {
  if (!existsSync(path.dirname(file))) {
    throw new ConfigError(
      'invalid_flag',
      `--systemd-directory: ${path.dirname(file)} does not exist; is this a systemd host? (print the unit without --write to see it)`,
    );
  }
  if (!force && existsSync(file)) {
    throw new ConfigError(
      'invalid_flag',
      `${file} exists already; give --force to replace it, or --name to write another unit`,
    );
  }
  if (existsSync(file) && lstatSync(file).isSymbolicLink()) {
    throw new ConfigError(
      'invalid_flag',
      `${file} is a symlink; remove it first (midbot does not write through one)`,
    );
  }
  try {
    writeFileSync(file, unit, { mode: 0o644 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    const advice = code === 'EACCES' || code === 'EPERM' ? 'run it as root (sudo)' : 'check the folder';
    throw new ConfigError('invalid_flag', `cannot write ${file} (${code}); ${advice}`, { cause: error });
  }
}
