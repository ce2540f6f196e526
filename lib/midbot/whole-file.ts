import { randomBytes } from 'node:crypto';
import { chmodSync, lstatSync, renameSync, rmSync, type Stats, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../core/errors.js';

/** How `writeWholeFile` writes, and treats a symlink at the path (a regular file there is replaced). */
export interface WholeFileOptions {
  /** The file's mode, whatever the umask. */
  readonly mode: number;
  /** Names the file in errors as the user gave it, e.g. `-o midbot.yaml`. */
  readonly flag: string;
  /** A symlink there: replaced itself (never followed), or refused. */
  readonly symlink: 'replace' | 'refuse';
}

/**
 * Writes `text` to `file` whole or not at all: a temporary file with a random name beside it (created
 * exclusively, so nothing already there is touched), renamed over it. Nothing is written through a
 * symlink, and a folder, a device, a FIFO or a socket at the path (or behind a symlink there: renaming
 * over `/dev/stdout` would replace it for the whole system) is refused.
 */
export function writeWholeFile(file: string, text: string, options: WholeFileOptions): void {
  checkWholeFileTarget(file, options);
  const folder = path.dirname(file);
  const temporary = path.join(folder, `.${path.basename(file)}.${randomBytes(6).toString('hex')}.tmp`);
  let created = false;
  try {
    writeFileSync(temporary, text, { mode: options.mode, flag: 'wx' });
    created = true;
    chmodSync(temporary, options.mode);
    renameSync(temporary, file);
  } catch (error) {
    if (created) rmSync(temporary, { force: true });
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    const advice =
      code === 'EACCES' || code === 'EPERM'
        ? 'run as a user that may write there'
        : 'choose a folder you may write to';
    throw new ConfigError('invalid_flag', `${options.flag}: cannot write it (${code}); ${advice}`, {
      cause: error,
    });
  }
}

/**
 * What `writeWholeFile` refuses, checked without writing: so that a caller writing several files can
 * refuse before writing any.
 */
export function checkWholeFileTarget(
  file: string,
  options: Pick<WholeFileOptions, 'flag' | 'symlink'>,
): void {
  const { flag } = options;
  const existing = statOf(lstatSync, file);
  if (existing?.isSymbolicLink()) {
    if (options.symlink === 'refuse') {
      throw new ConfigError(
        'invalid_flag',
        `${flag}: is a symlink; remove it first (midbot does not write through one)`,
      );
    }
    const target = statOf(statSync, file);
    if (target !== undefined && !target.isFile()) throw notAFile(flag, target);
  } else if (existing !== undefined && !existing.isFile()) {
    throw notAFile(flag, existing);
  }
  const folder = path.dirname(file);
  const folderStat = statOf(statSync, folder);
  if (folderStat === undefined) {
    throw new ConfigError('invalid_flag', `${flag}: its folder ${folder} does not exist; create it first`);
  }
  if (!folderStat.isDirectory()) {
    throw new ConfigError('invalid_flag', `${flag}: ${folder} is not a folder; give a path inside a folder`);
  }
}

function notAFile(flag: string, stats: Stats): ConfigError {
  const what = stats.isDirectory() ? 'a folder' : 'not a regular file (a device, a FIFO or a socket)';
  return new ConfigError('invalid_flag', `${flag}: is ${what}; give the path of a file to write`);
}

function statOf(stat: (file: string) => Stats, file: string): Stats | undefined {
  try {
    return stat(file);
  } catch {
    return undefined;
  }
}
