import { lstatSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../core/errors.js';

/**
 * Writes `text` to `file` readable by its owner alone (it may hold a join token), whole or not at all:
 * a temporary file beside it, renamed over it. A symlink at `file` is replaced, never followed; a
 * folder, a device or a FIFO there is refused (renaming over `/dev/null` would replace the device).
 * `flag` names the file in errors as the user gave it (`-o FILE`).
 */
export function writePrivateFile(file: string, text: string, flag: string): void {
  const existing = lstatOrUndefined(file);
  if (existing?.isDirectory()) {
    throw new ConfigError(
      'invalid_flag',
      `${flag}: is a folder; give the file to write in it, e.g. ${flag}/midbot.yaml`,
    );
  }
  if (existing !== undefined && !existing.isFile() && !existing.isSymbolicLink()) {
    throw new ConfigError(
      'invalid_flag',
      `${flag}: is not a regular file (a device, a FIFO or a socket); give the path of a file to write, or leave -o out to print the config`,
    );
  }
  const folder = path.dirname(file);
  const folderStat = statOrUndefined(folder);
  if (folderStat === undefined) {
    throw new ConfigError('invalid_flag', `${flag}: its folder ${folder} does not exist; create it first`);
  }
  if (!folderStat.isDirectory()) {
    throw new ConfigError('invalid_flag', `${flag}: ${folder} is not a folder; give a path inside a folder`);
  }
  const temporary = path.join(folder, `.${path.basename(file)}.${process.pid}.tmp`);
  try {
    writeFileSync(temporary, text, { mode: 0o600, flag: 'wx' });
    renameSync(temporary, file);
  } catch (error) {
    rmSync(temporary, { force: true });
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new ConfigError(
      'invalid_flag',
      `${flag}: cannot write it (${code}); choose a folder you may write to`,
      { cause: error },
    );
  }
}

function lstatOrUndefined(file: string) {
  try {
    return lstatSync(file);
  } catch {
    return undefined;
  }
}

function statOrUndefined(file: string) {
  try {
    return statSync(file);
  } catch {
    return undefined;
  }
}
