import { constants } from 'node:fs';
import * as fs from 'node:fs/promises';
import type { Account } from './system-accounts.js';

/** What `midbot init` sets on each file it adopts: an ACL, given the path setfacl should act on. */
export type SetFileAcl = (target: string) => Promise<void>;

/**
 * Gives one existing file of the folder `midbot init` prepares to its owner, with the file ACL. It acts
 * on the file it opened, not on its name: init runs as root in a folder another user may own, who could
 * swap the name for a link between a check and a change (say a hard link to /etc/shadow, where
 * `fs.protected_hardlinks` is off), and have root chown that instead. So the file is opened without
 * following a symlink, checked on the open descriptor to be a regular file with one link, the one that
 * was listed, and changed through it: `fchown`, and setfacl on `/proc/<pid>/fd/<fd>`, which leads to
 * the very file this process holds open whatever its name is by then.
 *
 * @returns false for an entry left alone: not a regular file of one link, or gone meanwhile.
 */
export async function adoptFolderFile(
  entryPath: string,
  owner: { readonly user: Account; readonly group: Account },
  setAcl: SetFileAcl,
): Promise<boolean> {
  const listed = await fs.lstat(entryPath).catch(() => undefined);
  if (!listed?.isFile() || listed.nlink !== 1) return false;
  // O_NONBLOCK: a FIFO swapped in meanwhile must not hang init (it is then refused below).
  const flags = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK | constants.O_NOCTTY;
  const handle = await fs.open(entryPath, flags).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ELOOP' || error.code === 'ENOENT' || error.code === 'ENXIO') return undefined;
    throw error;
  });
  if (handle === undefined) return false;
  try {
    const opened = await handle.stat();
    const same = opened.ino === listed.ino && opened.dev === listed.dev;
    if (!opened.isFile() || opened.nlink !== 1 || !same) return false;
    await handle.chown(owner.user.id, owner.group.id);
    await setAcl(`/proc/${process.pid}/fd/${handle.fd}`);
    return true;
  } finally {
    await handle.close();
  }
}
