import { ConfigError, StorageError } from '../../core/errors.js';
import { tryPidLock } from '../../core/pid-lock-file.js';
import { localServerFiles } from './local-server-files.js';
import { readLocalServerInfoIfValid } from './local-server-info.js';

/** Held while an auth service runs on a data directory; released when it stops. */
export interface DataDirLock {
  release(): void;
}

/** The address the service holding the lock wrote, if that file is its own. */
function serverUrlOf(dataDir: string, pid: number): string | undefined {
  const info = readLocalServerInfoIfValid(dataDir);
  return info?.pid === pid ? info.url : undefined;
}

/**
 * Takes `<data-dir>/auth-server.lock` for one auth service: a second service on the same directory
 * would share the database and overwrite `auth-server.json`, so midctl would end up calling whichever
 * stopped last. The file holds the pid; one whose process is gone (killed, crashed, a reboot) is
 * stale and taken over (see `tryPidLock`).
 *
 * @throws ConfigError `data_dir_in_use` naming the pid and address of the service that holds it.
 */
export function lockDataDir(dataDir: string): DataDirLock {
  const file = localServerFiles(dataDir).lock;
  let attempt: ReturnType<typeof tryPidLock>;
  try {
    attempt = tryPidLock(file);
  } catch (error) {
    throw new StorageError(
      'data_dir_unwritable',
      `${(error as Error).message}; run as the user that owns the data directory`,
      { cause: error },
    );
  }
  if ('held' in attempt) return attempt.held;
  const pid = attempt.heldBy;
  const url = pid === undefined ? undefined : serverUrlOf(dataDir, pid);
  const on = attempt.heldOn === undefined ? '' : ` on host ${attempt.heldOn}`;
  throw new ConfigError(
    'data_dir_in_use',
    `--data-dir ${dataDir} is in use by ${pid === undefined ? 'another auth service' : `the auth service pid ${pid}${on}`}${url === undefined ? '' : ` at ${url}`}; stop that service first or use another --data-dir (if no auth service runs there, delete ${file})`,
  );
}
