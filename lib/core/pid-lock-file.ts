import { randomBytes } from 'node:crypto';
import { closeSync, constants, linkSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';
import { StorageError } from './errors.js';

/** A lock file this process holds. */
export interface HeldPidLock {
  readonly file: string;
  /** The pid of a process that had stopped without removing its lock, when this one took it over. */
  readonly staleFrom?: number;
  /** Removes the lock file if it is still ours. Synchronous, so that a signal handler may call it; idempotent. */
  release(): void;
}

/**
 * Either the lock, or the pid of the live process holding it (undefined when it cannot be told) and,
 * when that process runs on another machine or container, that host's name.
 */
export type PidLockAttempt =
  | { readonly held: HeldPidLock }
  | { readonly heldBy: number | undefined; readonly heldOn?: string };

export interface PidLockOptions {
  /** @default process.pid */
  readonly pid?: number;
  /** Whether a process with this pid runs. @default {@link processIsRunning} */
  readonly isRunning?: (pid: number) => boolean;
}

/**
 * Lock files this process holds. A lock that names this process's own pid but is not in here was left
 * by an earlier process that had the same pid (in a container, the service is often pid 1 each start).
 */
const heldHere = new Set<string>();

/**
 * Takes `file` as a lock holding this process's pid, for a folder that one process at a time may use
 * (a midbot's storage, an auth service's data directory).
 *
 * The file is created whole or not at all (written under a temporary name, then hard-linked into place,
 * which fails when the name exists), so a reader never sees it half written. A lock whose pid no longer
 * runs is stale (its process was killed, or the machine restarted) and is taken over. Residual race:
 * two processes that find the same stale lock at the same instant may both remove it; each removal first
 * checks that the file still holds what was judged stale, which leaves a window of microseconds. Pids
 * mean nothing across machines: this is no lock for a folder shared over the network.
 *
 * @throws StorageError `lock_failed` when the lock file cannot be created (permissions, read-only)
 */
export function tryPidLock(file: string, options: PidLockOptions = {}): PidLockAttempt {
  const pid = options.pid ?? process.pid;
  const isRunning = options.isRunning ?? processIsRunning;
  const key = path.resolve(file);
  let staleFrom: number | undefined;
  // Twice at most: once as found, once after removing a stale lock.
  for (let attempt = 0; attempt < 2; attempt += 1) {
    if (createLockFile(file, pid)) {
      heldHere.add(key);
      return { held: lockHandle(file, key, pid, staleFrom) };
    }
    const found = readLockFile(file);
    if (found === undefined) continue; // removed in between: try again
    // Unreadable (another user's, or a symlink planted there): not ours to judge or remove.
    if (found === null) return { heldBy: undefined };
    const { pid: holder, host } = parseLock(found);
    // A lock from another host (two containers sharing a volume, often both pid 1) cannot be judged
    // from here: it counts as held.
    if (holder !== undefined && host !== undefined && host !== hostname())
      return { heldBy: holder, heldOn: host };
    const holderRuns = holder !== undefined && (holder === pid ? heldHere.has(key) : isRunning(holder));
    if (holderRuns) return { heldBy: holder };
    if (holder !== undefined) staleFrom = holder;
    // Remove only the stale file that was judged, not one another process has just put in its place.
    if (readLockFile(file) === found) unlinkQuietly(file);
  }
  return { heldBy: parseLock(readLockFile(file) ?? '').pid };
}

/**
 * Whether the process `pid` runs. EPERM means it does, as another user. A zombie (exited, not yet
 * reaped by its parent) still answers signal 0, so on Linux its state in /proc is checked as well.
 */
export function processIsRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.charAt(stat.lastIndexOf(')') + 2) !== 'Z';
  } catch {
    return true;
  }
}

function lockHandle(file: string, key: string, pid: number, staleFrom: number | undefined): HeldPidLock {
  let released = false;
  return {
    file,
    ...(staleFrom === undefined ? {} : { staleFrom }),
    release() {
      if (released) return;
      released = true;
      heldHere.delete(key);
      if (readLockFile(file) === lockText(pid)) unlinkQuietly(file);
    },
  };
}

/** The pid and the host it runs on: a pid means something only on its own host. */
function lockText(pid: number): string {
  return `${pid} ${hostname()}\n`;
}

/** True when this call created the lock file; false when one exists. */
function createLockFile(file: string, pid: number): boolean {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(8).toString('hex')}.tmp`);
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
      'lock_failed',
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

/**
 * The pid (and host) as a lock holds them; no pid for anything else, which no lock holder wrote, so it
 * is stale. A lock without a host was written on this one.
 */
function parseLock(text: string): { pid?: number; host?: string } {
  const match = /^([1-9][0-9]{0,9})(?: ([A-Za-z0-9._-]{1,255}))?\n?$/.exec(text);
  if (match === null) return {};
  return { pid: Number(match[1]), ...(match[2] === undefined ? {} : { host: match[2] }) };
}

function unlinkQuietly(file: string): void {
  try {
    unlinkSync(file);
  } catch {
    // Already gone, or the folder became unwritable: the next start finds a stale lock and takes it over.
  }
}
