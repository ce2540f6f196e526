import path from 'node:path';
import { StorageError } from '../../core/errors.js';
import { type HeldPidLock, type PidLockOptions, tryPidLock } from '../../core/pid-lock-file.js';

/** The lock file's name inside the storage directory; it holds the pid of the midbot that runs on it. */
export const STORAGE_LOCK_FILE = 'midbot.lock';

/** A held lock on a storage directory. */
export type StorageLock = HeldPidLock;

export interface StorageLockOptions extends PidLockOptions {
  /** How the user named the folder, for the refusal: `--data-dir` or `storage.path`. */
  readonly label: string;
}

/**
 * Takes the storage directory for this run (`midbot.lock`, holding the pid), or refuses naming the
 * midbot that holds it. Two runs on one storage (a cron `--oneshot` next to the daemon, or a second
 * start by mistake) would each renew the same identity; the second renewal presents a generation the
 * first one retired, and the auth service then locks the bot instance for good. A lock left by a
 * midbot that no longer runs is taken over (see `tryPidLock`).
 *
 * @param folder the storage directory, which must exist (the store's `checkWritable` creates it)
 * @throws StorageError `storage_in_use` naming the folder, the pid and the fix
 */
export function acquireStorageLock(folder: string, options: StorageLockOptions): StorageLock {
  const file = path.join(folder, STORAGE_LOCK_FILE);
  const attempt = tryPidLock(file, options);
  if ('held' in attempt) return attempt.held;
  const holder = attempt.heldBy;
  const on = attempt.heldOn === undefined ? '' : ` on host ${attempt.heldOn}`;
  const who = holder === undefined ? 'another midbot' : `midbot pid ${holder}${on}`;
  throw new StorageError(
    'storage_in_use',
    `${options.label} ${folder} is in use by ${who} (lock file ${file}): two runs on one storage renew the same identity, and the auth service then locks the bot instance for good. Let that run finish or stop it${holder === undefined || on !== '' ? '' : ` (kill -TERM ${holder})`}, or give this run its own ${options.label}; if no midbot runs there, delete ${file}`,
  );
}
