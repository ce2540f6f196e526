import path from 'node:path';
import { loadConfigOutputs } from '../../bot/config/load-bot-config.js';
import { type InitDirectoryOptions, initDirectory } from '../../bot/destinations/init-directory.js';
import { ConfigError } from '../../core/errors.js';
import type { MidbotIo } from '../midbot-io.js';
import { readConfigFile } from '../start-config.js';

export interface InitOptions {
  readonly config?: string;
  readonly destinationDir?: string;
  readonly owner?: string;
  readonly botUser: string;
  readonly readerUser: string;
}

/** The folder to prepare: the flag, or the one directory output of the config file. */
function chooseFolder(options: InitOptions, io: MidbotIo): string {
  const cwd = io.cwd();
  const flag = options.destinationDir === undefined ? undefined : path.resolve(cwd, options.destinationDir);
  if (options.config === undefined) {
    if (flag === undefined) {
      throw new ConfigError(
        'invalid_flag',
        '--destination-dir is required (or -c FILE with one directory output), e.g. --destination-dir=/opt/machine-id',
      );
    }
    return flag;
  }
  const outputs = loadConfigOutputs(readConfigFile(options.config, cwd, io.readFile), options.config);
  const folders = outputs.flatMap((output) =>
    output.destination.type === 'directory' ? [output.destination.path] : [],
  );
  if (flag !== undefined) {
    if (!folders.includes(flag)) {
      throw new ConfigError(
        'invalid_flag',
        `--destination-dir ${flag} is not the folder of any directory output in ${options.config} (${folders.join(', ') || 'none'}); give one of those, or add the output first`,
      );
    }
    return flag;
  }
  const [only, ...others] = folders;
  if (only === undefined || others.length > 0) {
    throw new ConfigError(
      'invalid_flag',
      `${options.config} has ${folders.length} directory outputs (${folders.join(', ') || 'none'}); say which to prepare with --destination-dir`,
    );
  }
  return only;
}

/** `midbot init` (tbot init): prepares a destination folder so the bot writes and the reader reads. */
export async function init(
  options: InitOptions,
  io: MidbotIo,
  run?: InitDirectoryOptions['run'],
): Promise<string> {
  const result = await initDirectory({
    destinationDir: chooseFolder(options, io),
    botUser: options.botUser,
    readerUser: options.readerUser,
    ...(options.owner === undefined ? {} : { owner: options.owner }),
    ...(run === undefined ? {} : { run }),
  });
  return `${result.description}\n`;
}
