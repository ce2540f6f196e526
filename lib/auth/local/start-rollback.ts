import { existsSync, rmdirSync, rmSync } from 'node:fs';
import { localServerFiles } from './local-server-files.js';

/** Undoes what a failed start of the local auth service wrote into its data directory. */
export interface StartRollback {
  /** Removes the files this start created; call while still holding the data directory's lock. */
  removeCreatedFiles(): void;
  /** Removes the data directory if this start created it and nothing else is in it (after the lock is released). */
  removeCreatedDirectory(): void;
}

/**
 * Notes which of the files a start writes are still absent, so that a start that fails (the port is
 * taken, the address is not on this host) removes exactly those. Otherwise a failed first start would
 * leave CAs behind, and with them a cluster name (the default one) that the next start cannot change.
 * A restart finds every file present and so removes nothing.
 */
export function noteFilesBeforeStart(dataDir: string, options: { directoryIsNew: boolean }): StartRollback {
  const files = localServerFiles(dataDir);
  const created = [files.caFolder, files.adminToken, files.hostCa, files.serverInfo].filter(
    (path) => !existsSync(path),
  );
  // SQLite's side files go with a new database only: next to an existing one they may hold its data.
  if (!existsSync(files.database)) {
    created.push(
      files.database,
      `${files.database}-wal`,
      `${files.database}-shm`,
      `${files.database}-journal`,
    );
  }
  return {
    removeCreatedFiles: () => {
      for (const path of created) rmSync(path, { recursive: true, force: true });
    },
    removeCreatedDirectory: () => {
      if (!options.directoryIsNew) return;
      try {
        rmdirSync(dataDir);
      } catch {
        // Not empty: another start got in after the lock was released; what it wrote stays.
      }
    },
  };
}
