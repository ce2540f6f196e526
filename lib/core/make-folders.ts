import { mkdirSync, statSync } from 'node:fs';
import * as nodeFs from 'node:fs/promises';
import path from 'node:path';
import { isErrno } from './errno.js';

/**
 * Why `makeFolders` failed with ENOENT, in words: a mkdir whose parent exists answers so only where the
 * filesystem takes no new folders, or when the parent went away meanwhile.
 */
export const FOLDER_NOT_CREATABLE =
  'a folder on its path is missing and could not be created (ENOENT; pseudo-filesystems such as /proc and /sys refuse new folders); choose a folder on a regular filesystem';

/** The calls `makeFolders` makes; the directory destination passes its own (tests inject faults). */
export interface FolderFs {
  mkdir(target: string, options: { recursive: boolean; mode: number }): Promise<unknown>;
  stat(target: string): Promise<{ isDirectory(): boolean }>;
}

/**
 * `mkdir -p`: one plain mkdir per missing folder, outermost first, each with `mode`. Node's recursive
 * mkdir never returns for a path it cannot create under some special filesystems (`/proc/x`, where
 * mkdir answers ENOENT although the parent exists), and after other failures reports a lookup's ENOENT
 * instead of the real reason (EROFS, EACCES). Here the first mkdir that fails gives its own error. An
 * existing folder is fine; a file at `target` fails with EEXIST, a file above it with ENOTDIR.
 */
export async function makeFolders(target: string, mode: number, fs: FolderFs = nodeFs): Promise<void> {
  const missing: string[] = [];
  let folder = path.resolve(target);
  for (;;) {
    const found = await fs.stat(folder).catch((error: unknown) => {
      if (isErrno(error, 'ENOENT') && path.dirname(folder) !== folder) return undefined;
      throw error;
    });
    if (found !== undefined) break;
    missing.unshift(folder);
    folder = path.dirname(folder);
  }
  // Nothing missing: mkdir says what is in the way, or nothing is.
  if (missing.length === 0) missing.push(folder);
  for (const each of missing) {
    try {
      await fs.mkdir(each, { recursive: false, mode });
    } catch (error) {
      // A folder already there (or made meanwhile by someone else) is as good as one made here.
      if (!isErrno(error, 'EEXIST') || !(await fs.stat(each)).isDirectory()) throw error;
    }
  }
}

/** `makeFolders` for start-up code that runs before anything is served. */
export function makeFoldersSync(target: string, mode: number): void {
  const missing: string[] = [];
  let folder = path.resolve(target);
  for (;;) {
    try {
      statSync(folder);
      break;
    } catch (error) {
      if (!isErrno(error, 'ENOENT') || path.dirname(folder) === folder) throw error;
    }
    missing.unshift(folder);
    folder = path.dirname(folder);
  }
  if (missing.length === 0) missing.push(folder);
  for (const each of missing) {
    try {
      mkdirSync(each, { recursive: false, mode });
    } catch (error) {
      if (!isErrno(error, 'EEXIST') || !statSync(each).isDirectory()) throw error;
    }
  }
}
