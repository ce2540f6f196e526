import { randomUUID } from 'node:crypto';
import { linkSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { ConfigError, StorageError } from '../../core/errors.js';
import { localServerFiles } from './local-server-files.js';

/** Held while an auth service runs on a data directory; released when it stops. */
export interface DataDirLock {
  release(): void;
}

/** Lock files this process holds: its own pid in a lock file is only stale if it is not in here. */
const heldByThisProcess = new Set<string>();

/**
 * Whether the process `pid` still runs. A zombie (exited, not yet reaped by its parent) still answers
 * signal 0, so on Linux its state in /proc is checked as well.
 */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return true;
  }
}

/** The pid in a lock file; undefined when it is gone or holds anything else (then it is stale). */
function readPid(file: string): number | undefined | 'gone' {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
    throw error;
  }
  const pid = Number(text.trim());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
}

/** Creates `file` holding this process's pid, complete or not at all (never seen half written). */
function createLockFile(file: string): boolean {
  const temp = `${file}.${randomUUID()}.tmp`;
  writeFileSync(temp, `${process.pid}\n`, { mode: 0o644, flag: 'wx' });
  try {
    linkSync(temp, file);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  } finally {
    unlinkSync(temp);
  }
}

/**
 * Removes a stale lock file, unless another starter replaced it with a live one in the meantime: the
 * file is first moved aside, and put back when it turns out not to be the stale one that was read.
 */
function removeStaleLock(file: string, stalePid: number | undefined): void {
  const aside = `${file}.${randomUUID()}.stale`;
  try {
    renameSync(file, aside);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  try {
    if (readPid(aside) !== stalePid) linkSync(aside, file);
  } catch (error) {
    // Another starter already holds a newer lock: it wins, and this one will see it on the next try.
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(aside);
  }
}

function serverUrlOf(dataDir: string, pid: number): string | undefined {
  try {
    const info = JSON.parse(readFileSync(localServerFiles(dataDir).serverInfo, 'utf8')) as {
      url?: unknown;
      pid?: unknown;
    };
    return info.pid === pid && typeof info.url === 'string' ? info.url : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes `<data-dir>/auth-server.lock` for one auth service: a second service on the same directory
 * would share the database and overwrite `auth-server.json`, so midctl would end up calling whichever
 * stopped last. The file holds the pid; one whose process is gone (killed, crashed, a reboot) is
 * stale and taken over.
 *
 * @throws ConfigError `data_dir_in_use` naming the pid and address of the service that holds it.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  const file = localServerFiles(dataDir).lock;
  const key = resolve(file);
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      if (createLockFile(file)) {
        heldByThisProcess.add(key);
        return { release: () => releaseLock(file, key) };
      }
    } catch (error) {
      throw new StorageError(
        'data_dir_unwritable',
        `cannot create the lock file ${file}: ${(error as Error).message}; run as the user that owns the data directory`,
        { cause: error },
      );
    }
    const pid = readPid(file);
    if (pid === 'gone') continue;
    const live = pid !== undefined && (pid === process.pid ? heldByThisProcess.has(key) : isRunning(pid));
    if (live) {
      const url = serverUrlOf(dataDir, pid);
      throw new ConfigError(
        'data_dir_in_use',
        `--data-dir ${dataDir} is in use by the auth service pid ${pid}${url === undefined ? '' : ` at ${url}`}; stop that service first or use another --data-dir (if no auth service runs there, delete ${file})`,
      );
    }
    removeStaleLock(file, pid);
  }
  throw new ConfigError(
    'data_dir_in_use',
    `--data-dir ${dataDir}: other auth services keep taking ${file}; start one service at a time`,
  );
}

function releaseLock(file: string, key: string): void {
  if (!heldByThisProcess.delete(key)) return;
  try {
    // Only this process's own lock: never one a later service took over.
    if (readPid(file) === process.pid) unlinkSync(file);
  } catch {
    // A lock left behind is stale as soon as this process exits; stopping must not fail over it.
  }
}
