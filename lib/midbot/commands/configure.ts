import { lstatSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { botConfigYaml } from '../../bot/config/config-yaml.js';
import { ConfigError } from '../../core/errors.js';
import type { MidbotIo } from '../midbot-io.js';
import { buildStartConfig } from '../start-config.js';
import type { ModeChoice, StartFlagOptions } from '../start-flag-options.js';

export interface ConfigureOptions extends StartFlagOptions {
  /** `midbot configure MODE ...`: the mode's output is added. */
  readonly mode?: ModeChoice;
  /** `-o FILE`: write the config there (mode 0600) instead of printing it. */
  readonly outputFile?: string;
}

/** What `midbot configure` did: the config's text, and the file it went to with `-o`. */
export interface Configured {
  readonly yaml: string;
  readonly file?: string;
  readonly warnings: readonly string[];
  /** Whether the text holds a join token's value (rather than an iam token's name or a token file). */
  readonly holdsSecretToken: boolean;
}

/**
 * `midbot configure` (tbot's): the v2 config that `midbot start` would run with the same flags (and
 * `-c FILE`, so that it also writes a v1 file as v2), checked as `midbot start` checks it, as YAML. A
 * token given as a file's path stays a path; nothing is contacted and nothing is read but `-c`.
 */
export function configure(options: ConfigureOptions, io: MidbotIo): Configured {
  const { config, warnings } = buildStartConfig(options.config, options, io, options.mode);
  const yaml = botConfigYaml(config);
  const token = config.onboarding.token;
  const holdsSecretToken =
    config.onboarding.join_method === 'token' && token !== undefined && !path.isAbsolute(token);
  if (options.outputFile === undefined) return { yaml, warnings, holdsSecretToken };
  const file = path.resolve(io.cwd(), options.outputFile);
  writePrivately(file, yaml, options.outputFile);
  return { yaml, file, warnings, holdsSecretToken };
}

/**
 * Writes `text` to `file` readable by its owner alone (it may hold a join token), whole or not at all:
 * a temporary file beside it, renamed over it. A symlink at `file` is replaced, never followed.
 */
function writePrivately(file: string, text: string, typed: string): void {
  if (isFolder(file)) {
    throw new ConfigError(
      'invalid_flag',
      `-o ${typed}: is a folder; give the config file to write, e.g. -o ${path.join(typed, 'midbot.yaml')}`,
    );
  }
  const temporary = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    writeFileSync(temporary, text, { mode: 0o600, flag: 'wx' });
    renameSync(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    const advice =
      code === 'ENOENT'
        ? `its folder ${path.dirname(file)} does not exist; create it first`
        : `cannot write it (${code}); choose a folder you may write to`;
    throw new ConfigError('invalid_flag', `-o ${typed}: ${advice}`, { cause: error });
  }
}

function isFolder(file: string): boolean {
  try {
    return lstatSync(file).isDirectory();
  } catch {
    return false;
  }
}

/**
 * What `midbot configure` prints: the YAML on standard output, or where it was written; the warnings,
 * and a reminder where the text holds a join token, on standard error.
 */
export function printConfigured(result: Configured, io: MidbotIo): void {
  for (const warning of result.warnings) io.writeLog(`WARNING: ${warning}`);
  if (result.file === undefined) {
    io.write(result.yaml);
    if (result.holdsSecretToken) {
      io.writeLog(
        'NOTE: the config holds the join token: keep the file you save it to private (chmod 600), or write it with -o FILE, which does',
      );
    }
    return;
  }
  io.writeLog(`Wrote ${result.file} (mode 0600); run it with: midbot start -c ${result.file}`);
}
