import { lstatSync, statSync } from 'node:fs';
import path from 'node:path';
import { DestinationError } from '../../core/errors.js';
import { FOLDER_NOT_CREATABLE } from '../../core/make-folders.js';
import type { DirectoryPurpose } from './directory-destination.js';

/**
 * The errors of the directory destination: each filesystem failure as a `DestinationError` a person can
 * act on, with advice that fits what the folder holds, and what happened to what was there before.
 */

export function rootIsSymlink(root: string, noun: string, purpose: DirectoryPurpose): DestinationError {
  return new DestinationError(
    'symlink_in_destination',
    purpose === 'copy'
      ? `${noun} ${root} is a symlink; identity files are never written through one. Give the folder the link leads to`
      : `${noun} ${root} is a symlink; midbot does not follow symlinks in a destination. Point the config at the folder the link leads to`,
  );
}

export function notAFile(target: string): DestinationError {
  return new DestinationError(
    'not_a_file',
    `${target} exists but is not a regular file (a folder, device or pipe); move it away so midbot can write the artifact`,
  );
}

/**
 * The file where a folder should be, on the way to `target` (what ENOTDIR means), or undefined when it
 * cannot be told (best effort: this only makes the message more precise).
 */
function fileInTheWay(target: string): string | undefined {
  for (let folder = path.dirname(target); ; folder = path.dirname(folder)) {
    try {
      if (!lstatSync(folder).isDirectory()) return folder;
    } catch {
      // Missing or unreadable: look further up.
    }
    if (folder === path.dirname(folder)) return undefined;
  }
}

export const KEPT: Record<DirectoryPurpose, string> = {
  output: 'the previous artifacts are unchanged',
  storage: 'the stored identity is unchanged',
  copy: 'the previous files are unchanged',
};
export const READING = { verb: 'read', kept: undefined } as const;
/** For `checkWritable`: it only probes, so there is nothing to keep. */
export const NOTHING_WRITTEN = { kept: undefined } as const;

export interface FsErrorHow {
  readonly verb?: 'read' | 'write';
  /** What happened to what was there before; absent: the default for the folder's purpose. */
  readonly kept?: string | undefined;
}

/** Turns an fs error into one a person can act on, saying what happened to the previous artifacts. */
export function mapFsError(
  error: unknown,
  target: string,
  root: string,
  purpose: DirectoryPurpose,
  how: FsErrorHow = {},
): DestinationError {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const verb = how.verb ?? 'write';
  const kept = 'kept' in how ? (how.kept === undefined ? '' : `; ${how.kept}`) : `; ${KEPT[purpose]}`;
  const cannot = `cannot ${verb} ${target}`;
  const fail = (errorCode: string, message: string) =>
    new DestinationError(errorCode, `${message}${kept}`, { cause: error });
  switch (code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return fail(
        'destination_full',
        `${cannot}: ${code === 'ENOSPC' ? 'no space left on the device' : 'disk quota exceeded'}; free space on the filesystem holding ${root}`,
      );
    case 'EACCES':
    case 'EPERM': {
      const owned = purpose === 'copy' ? undefined : ownedButNotWritable(root);
      if (owned !== undefined) {
        return fail(
          'destination_permission_denied',
          `${cannot}: permission denied, although this user (uid ${owned.uid}) owns ${root}: its mode is ${owned.mode}; let the owner write it (\`chmod u+rwx ${root}\`)`,
        );
      }
      return fail(
        'destination_permission_denied',
        purpose === 'storage'
          ? // Not `midbot init`: that gives a reader access, and no reader may see the bot's own identity.
            `${cannot}: permission denied; ${root} is midbot's data directory (storage): run midbot as the user that owns it, or fix its owner or permissions so that this user may write it (e.g. \`chown -R <user> ${root}\`)`
          : purpose === 'copy'
            ? `${cannot}: permission denied; write the identity to a folder this process's user owns, or fix the owner or permissions of ${root}`
            : `${cannot}: permission denied; run midbot as the user that owns ${root}, or give that user access with \`midbot init --destination-dir ${root} --bot-user <user> --reader-user <reader>\``,
      );
    }
    case 'EROFS':
      return fail(
        'destination_read_only',
        `${cannot}: the filesystem is mounted read-only; choose a writable folder`,
      );
    case 'ELOOP':
      return fail(
        'symlink_in_destination',
        `${cannot}: it (or its temporary file) is a symlink; midbot never follows symlinks in a destination. Check who created it and remove it`,
      );
    case 'ENOENT':
      if (verb !== 'write') break;
      return fail(`destination_${verb}_failed`, `${cannot}: ${FOLDER_NOT_CREATABLE}`);
    case 'EISDIR':
      return fail('not_a_file', `${cannot}: a folder is in the way (EISDIR); move it away`);
    case 'ENOTDIR': {
      const file = fileInTheWay(target);
      return fail(
        'not_a_file',
        file === undefined
          ? `${cannot}: a file is in the way where a folder should be (ENOTDIR); move it away or choose another path`
          : `${cannot}: ${file} is a file, not a folder (ENOTDIR); move it away or choose another path`,
      );
    }
  }
  return fail(
    `destination_${verb}_failed`,
    `${cannot}: ${code ?? (error instanceof Error ? error.message : String(error))}`,
  );
}

/**
 * The folder's owner and mode when this process's user owns it, and its mode does not let the owner
 * write it: then the advice to run midbot as the owner would send the operator in a circle; the mode is
 * what to fix.
 */
function ownedButNotWritable(root: string): { uid: number; mode: string } | undefined {
  const uid = process.getuid?.();
  if (uid === undefined) return undefined;
  try {
    const stats = statSync(root);
    // Only when the mode is what refuses the owner: otherwise (root, an ACL, an immutable flag) it is not.
    const ownerMayWrite = (stats.mode & 0o300) === 0o300;
    return stats.uid === uid && !ownerMayWrite
      ? { uid, mode: `0${(stats.mode & 0o777).toString(8)}` }
      : undefined;
  } catch {
    return undefined;
  }
}
