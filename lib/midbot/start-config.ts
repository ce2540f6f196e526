import { existsSync } from 'node:fs';
import path from 'node:path';
import { STORED_IDENTITY_FILE } from '../bot/agent/stored-identity.js';
import type { LoadedBotConfig } from '../bot/config/load-bot-config.js';
import { configFromFlags, loadBotConfigWithFlags } from '../bot/config/load-bot-config.js';
import { resolveTokenFile } from '../bot/config/resolve-token-file.js';
import type { BotConfigFlags } from '../bot/config/start-flags.js';
import { modeOutput } from '../bot/config/start-modes.js';
import { ConfigError } from '../core/errors.js';
import { type ReadProblem, readProblemOf } from '../core/read-small-file.js';
import type { ModeChoice } from './start-flag-options.js';

/** Reads `-c FILE` with a message that names the flag and the file. */
export function readConfigFile(file: string, cwd: string, readFile: (path: string) => string): string {
  const writeAFile = 'write the config to a file and give that, e.g. -c /etc/midbot.yaml';
  // `midctl create -f -` reads stdin, so `-c -` looks like it should; but midbot reads no pipe (see
  // not_regular), and read as a path `-` would be a file of that name that is missing.
  if (file === '-') {
    throw new ConfigError(
      'unreadable_config',
      `-c -: midbot does not read its config from stdin, as it reads no pipe; ${writeAFile}`,
    );
  }
  try {
    return readFile(path.resolve(cwd, file));
  } catch (error) {
    const advice: Record<ReadProblem, string> = {
      missing:
        'no such file; write the config there (see `midctl bots add` for an example) or pass the flags instead',
      folder: 'is a folder, not a file; give the config file itself, e.g. -c /etc/midbot.yaml',
      not_regular: `is not a regular file (a device, a FIFO or a socket; midbot does not read a pipe such as -c <(envsubst ...) or /dev/stdin); ${writeAFile}`,
      too_large: `is larger than any config (over 1 MiB); ${writeAFile}`,
      other: `cannot read it (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); run midbot as a user that may read it`,
    };
    throw new ConfigError('unreadable_config', `-c ${file}: ${advice[readProblemOf(error)]}`, {
      cause: error,
    });
  }
}

/**
 * The config the start flags describe: the file given with `-c` (v2, or v1 with a conversion warning)
 * with the flags filling in and overriding its keys, or the flags alone; a mode's output (`midbot start
 * identity --destination ...`) added to the others. A token stays as given (a value, or a file's path).
 */
export function buildStartConfig(
  configFile: string | undefined,
  flags: BotConfigFlags,
  io: { cwd(): string; readFile(path: string): string },
  mode?: ModeChoice,
): LoadedBotConfig {
  const cwd = io.cwd();
  const withMode: BotConfigFlags =
    mode === undefined ? flags : { ...flags, output: modeOutput(mode.mode, mode.flags, cwd) };
  return configFile === undefined
    ? { config: configFromFlags(withMode, { cwd }), warnings: [] }
    : loadBotConfigWithFlags(readConfigFile(configFile, cwd, io.readFile), configFile, withMode, { cwd });
}

/** The config `midbot start` runs with (see `buildStartConfig`), a token file's token read from it. */
export function loadStartConfig(
  configFile: string | undefined,
  flags: BotConfigFlags,
  io: { cwd(): string; readFile(path: string): string },
  mode?: ModeChoice,
): LoadedBotConfig {
  const loaded = buildStartConfig(configFile, flags, io, mode);
  const tokenName =
    flags.token === undefined ? `${configFile}: onboarding.token` : (flags.tokenName ?? '--token');
  const { onboarding, storage } = loaded.config;
  try {
    return { ...loaded, config: { ...loaded.config, onboarding: resolveTokenFile(onboarding, tokenName) } };
  } catch (error) {
    // A token is needed only to join; an identity in storage may be renewed without it (a systemd
    // credential gone, a file only root may read). If a join is needed after all, the agent says it
    // has no token, and the warning says why.
    const unreadable = error instanceof ConfigError && error.code === 'unreadable_token_file';
    const resumable =
      storage.type === 'directory' && existsSync(path.join(storage.path, STORED_IDENTITY_FILE));
    if (!unreadable || !resumable || onboarding.join_method !== 'token') throw error;
    const { token: _unread, ...withoutToken } = onboarding;
    return {
      warnings: [
        ...loaded.warnings,
        `${error.message}; going on without a join token: the identity in ${storage.path} is renewed, and a join (if one is needed) fails for want of it`,
      ],
      config: { ...loaded.config, onboarding: withoutToken },
    };
  }
}
