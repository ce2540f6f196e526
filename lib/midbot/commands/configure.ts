import path from 'node:path';
import { botConfigYaml } from '../../bot/config/config-yaml.js';
import { V1_SHAPE_WARNING } from '../../bot/config/legacy-config.js';
import { checkTokenShape } from '../../bot/config/resolve-token-file.js';
import { ConfigError } from '../../core/errors.js';
import type { MidbotIo } from '../midbot-io.js';
import { buildStartConfig } from '../start-config.js';
import type { ModeChoice, StartFlagOptions } from '../start-flag-options.js';
import { withTeleportTokenNote } from '../teleport-token-note.js';
import { writeWholeFile } from '../whole-file.js';

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
  const target = outputTarget(options.outputFile);
  const { config, warnings } = configFor(options, io);
  // As midbot start would, short of reading a token file.
  checkTokenShape(
    config.onboarding,
    options.token === undefined ? `${options.config}: onboarding.token` : '--token',
    io.cwd(),
  );
  const yaml = botConfigYaml(config);
  const token = config.onboarding.token;
  const holdsSecretToken =
    config.onboarding.join_method === 'token' && token !== undefined && !path.isAbsolute(token);
  // The v1 warning shows the v2 text, which is what this prints anyway.
  const notes = warnings.map((warning) =>
    warning.includes(V1_SHAPE_WARNING)
      ? `${options.config}: ${V1_SHAPE_WARNING}; what midbot configure gives is its v2 form, for midbot start -c`
      : warning,
  );
  if (target === undefined) return { yaml, warnings: notes, holdsSecretToken };
  const file = path.resolve(io.cwd(), target);
  // Readable by its owner alone: it may hold a join token.
  writeWholeFile(file, yaml, {
    mode: 0o600,
    flag: `-o ${target}`,
    symlink: 'replace',
  });
  return { yaml, file, warnings: notes, holdsSecretToken };
}

/** What `-o` may name to mean standard output (the others are refused: renaming over them would replace them). */
const STANDARD_OUTPUT = ['-', '/dev/stdout', '/dev/fd/1', '/proc/self/fd/1'];

/** The file `-o` names; none for standard output (no -o, or `-o -`). */
function outputTarget(value: string | undefined): string | undefined {
  if (value === undefined || STANDARD_OUTPUT.includes(value)) return undefined;
  if (value.trim() === '') {
    throw new ConfigError('invalid_flag', '-o: got "", expected the file to write, e.g. -o midbot.yaml');
  }
  // `-o=FILE` gives commander "=FILE": only the long form takes an =.
  if (value.startsWith('=')) {
    throw new ConfigError(
      'invalid_flag',
      `-o: got ${JSON.stringify(value)}; write -o ${value.slice(1)} or --output=${value.slice(1)}`,
    );
  }
  return value;
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

/** The config the flags make, as `midbot start` builds it. */
function configFor(options: ConfigureOptions, io: MidbotIo) {
  try {
    return buildStartConfig(options.config, options, io, options.mode);
  } catch (error) {
    throw withTeleportTokenNote(error, io.env);
  }
}
