import { randomBytes } from 'node:crypto';
import { closeSync, constants, linkSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import path from 'node:path';
import { StorageError } from '../../core/errors.js';

/** The lock file's name inside the storage directory; it holds the pid of the midbot that runs on it. */
export const STORAGE_LOCK_FILE = 'midbot.lock';

/** A held lock on a storage directory. */
export interface StorageLock {
  readonly file: string;
  /** The pid of a midbot that had stopped without removing its lock, when this run took it over. */
  readonly staleFrom?: number;
  /** Removes the lock file if it is still ours. Synchronous, so that a signal handler may call it; idempotent. */
  release(): void;
}

export interface StorageLockOptions {
  /** How the user named the folder, for the refusal: `--data-dir` or `storage.path`. */
  readonly label: string;
  /** @default process.pid */
  readonly pid?: number;
  /** Whether a process with this pid runs. @default `process.kill(pid, 0)` */
  readonly isRunning?: (pid: number) => boolean;
}

/**
 * Lock files this process holds. A lock that names this process's own pid but is not in here was left by
 * an earlier process that had the same pid (in a container, midbot is often pid 1 on every start).
 */
const heldHere = new Set<string>();

/**
 * Takes the storage directory for this run, or refuses naming the midbot that holds it. Two runs on
 * one storage (a cron `--oneshot` next to the daemon, or a second start by mistake) would each renew
 * the same identity; the second renewal presents a generation the first one retired, and the auth
 * service then locks the bot instance for good.
 *
 * The lock file is created whole or not at all (written under a temporary name, then hard-linked into
 * place, which fails when the name exists), so a reader never sees it half written. A lock whose pid
 * no longer runs is stale: the previous midbot was killed (SIGKILL, power loss) and it is taken over.
 * Residual race: two runs that find the same stale lock at the same instant may both remove it; each
 * removal first checks that the file still holds the stale pid, which leaves a window of microseconds.
 *
 * @param folder the storage directory, which must exist (the store's `checkWritable` creates it)
 * @throws StorageError `storage_in_use` naming the folder, the pid and the fix
 */
export function acquireStorageLock(folder: string, options: StorageLockOptions): StorageLock {
  const file = path.join(folder, STORAGE_LOCK_FILE);
  const pid = options.pid ?? process.pid;
  const isRunning = options.isRunning ?? processIsRunning;
  let staleFrom: number | undefined;
  // Twice at most: once as found, once after removing a stale lock.
  for (let attempt = 0; attempt < 2; attempt += 1) {
    if (createLockFile(folder, file, pid)) {
      heldHere.add(file);
      return lockHandle(file, pid, staleFrom);
    }
    const found = readLockFile(file);
    if (found === undefined) continue; // removed in between: try again
    // Unreadable (another user's, or a symlink planted there): not ours to judge or remove.
    if (found === null) throw inUse(options.label, folder, file, undefined);
    const holder = parsePid(found);
    const holderRuns = holder !== undefined && (holder === pid ? heldHere.has(file) : isRunning(holder));
    if (holderRuns) throw inUse(options.label, folder, file, holder);
    if (holder !== undefined) staleFrom = holder;
    // Remove only the stale file we judged, not one another run has just put in its place.
    if (readLockFile(file) === found) unlinkQuietly(file);
  }
  throw inUse(options.label, folder, file, parsePid(readLockFile(file) ?? ''));
}

function lockHandle(file: string, pid: number, staleFrom: number | undefined): StorageLock {
  let released = false;
  return {
    file,
    ...(staleFrom === undefined ? {} : { staleFrom }),
    release() {
      if (released) return;
      released = true;
      heldHere.delete(file);
      if (readLockFile(file) === lockText(pid)) unlinkQuietly(file);
    },
  };
}

function lockText(pid: number): string {
  return `${pid}\n`;
}

/** True when this call created the lock file; false when one exists. */
function createLockFile(folder: string, file: string, pid: number): boolean {
  const temp = path.join(folder, `.${STORAGE_LOCK_FILE}.${randomBytes(8).toString('hex')}.tmp`);
  try {
    const fd = openSync(
      temp,
      constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
      0o600,
    );
    try {
      writeSync(fd, lockText(pid));
    } finally {
      closeSync(fd);
    }
    linkSync(temp, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw new StorageError(
      'storage_lock_failed',
      `cannot create the lock file ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      { cause: error },
    );
  } finally {
    unlinkQuietly(temp);
  }
}

/** The lock file's text; undefined when there is none, null when it cannot be read. */
function readLockFile(file: string): string | undefined | null {
  try {
    // O_NOFOLLOW: a symlink planted at the lock's name is not followed (it reads as unreadable).
    const fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    try {
      return readFileSync(fd, 'utf8').slice(0, 64);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : null;
  }
}

/** A pid as the lock holds it; undefined for anything else (which no midbot wrote, so it is stale). */
function parsePid(text: string): number | undefined {
  const match = /^([1-9][0-9]{0,9})\n?$/.exec(text);
  return match === null ? undefined : Number(match[1]);
}

function processIsRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs, as another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // Already gone, or the folder became unwritable: the next start finds a stale lock and takes it over.
  }
}

function inUse(label: string, folder: string, file: string, holder: number | undefined): StorageError {
  const who = holder === undefined ? 'another midbot' : `midbot pid ${holder}`;
  return new StorageError(
    'storage_in_use',
    `${label} ${folder} is in use by ${who} (lock file ${file}): two runs on one storage renew the same identity, and the auth service then locks the bot instance for good. Let that run finish or stop it${holder === undefined ? '' : ` (kill -TERM ${holder})`}, or give this run its own ${label}; if no midbot runs there, delete ${file}`,
  );
}
