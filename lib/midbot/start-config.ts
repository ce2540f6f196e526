import path from 'node:path';
import type { LoadedBotConfig } from '../bot/config/load-bot-config.js';
import { configFromFlags, loadBotConfigWithFlags } from '../bot/config/load-bot-config.js';
import { resolveTokenFile } from '../bot/config/resolve-token-file.js';
import type { BotConfigFlags } from '../bot/config/start-flags.js';
import { ConfigError } from '../core/errors.js';

/** Reads `-c FILE` with a message that names the flag and the file. */
export function readConfigFile(file: string, cwd: string, readFile: (path: string) => string): string {
  try {
    return readFile(path.resolve(cwd, file));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(
      'unreadable_config',
      code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP'
        ? `-c ${file}: no such file; write the config there (see \`midctl bots add\` for an example) or pass the flags instead`
        : code === 'EISDIR'
          ? `-c ${file}: is a folder, not a file; give the config file itself, e.g. -c /etc/midbot.yaml`
          : code === 'ENOTREGULAR' || code === 'ENXIO' || code === 'EFBIG'
            ? `-c ${file}: ${code === 'EFBIG' ? 'is larger than any config (over 1 MiB)' : 'is not a regular file (a device, a FIFO or a socket; midbot does not read a pipe such as -c <(envsubst ...) or /dev/stdin)'}; write the config to a file and give that, e.g. -c /etc/midbot.yaml`
            : `-c ${file}: cannot read it (${code ?? (error as Error).message}); run midbot as a user that may read it`,
      { cause: error },
    );
  }
}

/**
 * The config `midbot start` runs with: the file given with `-c` (v2, or v1 with a conversion warning)
 * with the flags filling in and overriding its keys, or the flags alone. A token given as the path of
 * a file is read from that file.
 */
export function loadStartConfig(
  configFile: string | undefined,
  flags: BotConfigFlags,
  io: { cwd(): string; readFile(path: string): string },
): LoadedBotConfig {
  const cwd = io.cwd();
  const loaded =
    configFile === undefined
      ? { config: configFromFlags(flags, { cwd }), warnings: [] }
      : loadBotConfigWithFlags(readConfigFile(configFile, cwd, io.readFile), configFile, flags, { cwd });
  const tokenName = flags.token === undefined ? `${configFile}: onboarding.token` : '--token';
  return {
    ...loaded,
    config: {
      ...loaded.config,
      onboarding: resolveTokenFile(loaded.config.onboarding, tokenName),
    },
  };
}
