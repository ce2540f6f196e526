import { lstat, realpath } from 'node:fs/promises';
import path from 'node:path';
import { IdentityWriteError } from './errors.js';

/** Anyone but the owner may write (group or others). */
const WRITABLE_BY_OTHERS = 0o022;
/** The sticky bit: in such a folder (`/tmp`) only a file's owner may rename or remove it. */
const STICKY = 0o1000;

/**
 * Refuses a folder that someone other than this process's user (or root) could change files in, before
 * anything is written there, as OpenSSH refuses an `~/.ssh/config` others may write. What goes into the
 * folder is run: `ssh -F <dir>/ssh_config` runs what a `ProxyCommand` there says, and `known_hosts` and
 * `kubeconfig.yaml` decide which servers are trusted, so a user who could replace one of them between
 * this write and the next `ssh` or `kubectl` could run commands as this process or read the key through a
 * server of their choosing. The folder and each folder above it must be owned by this user or root, and
 * writable by no one else unless it is sticky (`/tmp`: others may add files there but not replace ours).
 * A folder that does not exist yet is checked from the nearest one that does (it is created 0700).
 * A symlink on the way leads the files elsewhere: the folders they land in are checked as well (as
 * OpenSSH checks the real path), and so are those on the path as written, whose owners could point
 * the symlink elsewhere.
 *
 * @param uid this process's user; undefined where there are no POSIX users (nothing is checked)
 * @throws {@link IdentityWriteError} naming the folder, what is wrong and the fix
 */
export async function refuseFolderOthersCanChange(
  dir: string,
  uid: number | undefined = process.getuid?.(),
): Promise<void> {
  if (uid === undefined) return;
  const written = path.resolve(dir);
  await refuseFolders(written, uid);
  const real = await realNearestFolder(written);
  if (real !== undefined && real !== written) await refuseFolders(real, uid);
}

/** The real path of `folder`, or of the nearest folder above it that exists. */
async function realNearestFolder(folder: string): Promise<string | undefined> {
  for (let current = folder; ; current = path.dirname(current)) {
    try {
      return await realpath(current);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    if (current === path.dirname(current)) return undefined;
  }
}

/** Refuses `dir` or a folder above it that someone other than `uid` or root could change. */
async function refuseFolders(dir: string, uid: number): Promise<void> {
  for (let folder = dir; ; folder = path.dirname(folder)) {
    const stats = await lstatOrUndefined(folder);
    // A symlink as the folder itself is refused by the writer; one above it is the operator's layout.
    if (stats !== undefined && !stats.isSymbolicLink()) {
      if (stats.uid !== uid && stats.uid !== 0) {
        throw new IdentityWriteError(
          `${folder} is owned by uid ${stats.uid}, not by this process's user (uid ${uid}) or root: its owner could replace ssh_config, known_hosts or kubeconfig.yaml after they are written. Write the identity to a folder of this user's own (a path that does not exist yet is created with mode 0700)`,
        );
      }
      if ((stats.mode & WRITABLE_BY_OTHERS) !== 0 && (stats.mode & STICKY) === 0) {
        const mode = (stats.mode & 0o7777).toString(8).padStart(4, '0');
        throw new IdentityWriteError(
          `${folder} may be written by users other than its owner (mode ${mode}): they could replace ssh_config, known_hosts or kubeconfig.yaml after they are written. Make it private (chmod go-w ${folder}), or write the identity to a folder of this user's own`,
        );
      }
    }
    if (folder === path.dirname(folder)) return;
  }
}

async function lstatOrUndefined(file: string) {
  try {
    return await lstat(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
