import { lstatSync, type Stats, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../core/errors.js';
import { localServerFiles } from './local-server-files.js';
import { describeUid } from './user-names.js';

function statOrUndefined(stat: (path: string) => Stats, path: string): Stats | undefined {
  try {
    return stat(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

function refused(message: string): ConfigError {
  return new ConfigError('unsafe_data_dir', message);
}

/**
 * Refuses a data directory someone other than the service's user could have prepared. The service
 * trusts what it finds there: the admin credential (whoever wrote it administers the cluster), the CA
 * keys (whoever wrote them signs as the cluster) and the files it writes at every start (a symlink
 * planted at one would have the service, perhaps root, write through it). So the folder must be owned
 * by the user running the service, and each of the service's own files in it must be a plain file or
 * folder of that user, the secret ones readable by it alone. Checked before the service changes
 * anything there (the folder's mode included).
 *
 * @param uid the user running the service; undefined where there are no POSIX users (nothing is checked)
 * @throws ConfigError `unsafe_data_dir` naming the path, what is wrong and the fix
 */
export function refuseUnsafeDataDir(dataDir: string, uid: number | undefined = process.getuid?.()): void {
  if (uid === undefined) return;
  // The folder itself may be reached through a symlink (`/var/lib/mid` → `/data/mid`): the operator's.
  const folder = statSync(dataDir);
  if (folder.uid !== uid) {
    throw refused(
      `--data-dir ${dataDir} is owned by ${describeUid(folder.uid)}, not by ${describeUid(uid)} running the auth service: its owner could replace the CA keys and the admin credential in it. Run the service as its owner, or give the folder to this user (chown -R ${uid} ${dataDir}) once you have checked what it holds`,
    );
  }
  const files = localServerFiles(dataDir);
  const caKeys = join(files.caFolder, 'cas.json');
  // Whoever may read these administers the cluster or signs as it: no one but the owner may.
  const secrets = new Set([files.adminToken, caKeys]);
  const ours = [
    files.adminToken,
    files.caFolder,
    caKeys,
    files.hostCa,
    files.serverInfo,
    files.lock,
    files.database,
    `${files.database}-wal`,
    `${files.database}-shm`,
    `${files.database}-journal`,
  ];
  for (const path of ours) {
    const stats = statOrUndefined(lstatSync, path);
    if (stats === undefined) continue;
    if (stats.isSymbolicLink()) {
      throw refused(
        `${path} is a symlink; the auth service never reads or writes its files through one. Someone may have tampered with ${dataDir}: check who created the link, and remove it`,
      );
    }
    if (stats.uid !== uid) {
      // Removing the CA keys is no fix: the next start would make new CAs, which nothing trusts.
      const remedy =
        path === caKeys || path === files.caFolder
          ? `; removing it would give the cluster new CAs, which no bot, node or app trusts`
          : ' or remove it';
      throw refused(
        `${path} is owned by ${describeUid(stats.uid)}, not by ${describeUid(uid)} running the auth service; someone may have tampered with ${dataDir}: check the file, then give it to this user (chown ${uid} ${path})${remedy}`,
      );
    }
    if (secrets.has(path) && (stats.mode & 0o077) !== 0) {
      throw refused(
        `${path} may be read or changed by users other than its owner (mode ${(stats.mode & 0o777).toString(8).padStart(4, '0')}); make it private with chmod 600 ${path}${path === files.adminToken ? ' (or, if someone else may have read it, delete it: the next start makes a new admin credential)' : ' (if someone else may have read it, they can sign as the cluster: start a new cluster in a new data directory and have bots, nodes and apps trust its CAs)'}`,
      );
    }
  }
}
