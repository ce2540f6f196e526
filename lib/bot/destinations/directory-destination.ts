import { randomBytes } from 'node:crypto';
import { constants } from 'node:fs';
import * as nodeFs from 'node:fs/promises';
import path from 'node:path';
import { isErrno } from '../../core/errno.js';
import { DestinationError } from '../../core/errors.js';
import { makeFolders } from '../../core/make-folders.js';
import {
  type ArtifactFile,
  checkArtifactFiles,
  checkArtifactName,
  type Destination,
  type OutputMetadata,
} from './destination.js';
import {
  type FsErrorHow,
  KEPT,
  mapFsError,
  NOTHING_WRITTEN,
  notAFile,
  READING,
  rootIsSymlink,
} from './directory-errors.js';
import type { DirectoryFileHandle, DirectoryFs } from './directory-fs.js';
import { type FolderIdentity, FolderOwnership } from './folder-ownership.js';
import { OWNED_FILES_LIST } from './owned-files.js';
import { hasReaderDefaultAcl } from './reader-default-acl.js';

export type { DirectoryFileHandle, DirectoryFs } from './directory-fs.js';

/**
 * The directory destination (SECURITY rule 12).
 *
 * - Each output's files are first written to temporary files in the same folder (random names,
 *   `O_CREAT|O_EXCL|O_NOFOLLOW`, fsync), then renamed over their targets, so a reader sees either the
 *   old or the new file, never a partial one. If any temporary write fails, every temporary file is
 *   removed and the previous artifacts are untouched.
 * - Modes: 0600 for key material, 0644 otherwise (set explicitly, whatever the umask). When the folder
 *   carries a default ACL that names readers (what `midbot init` sets up), key material is created with
 *   group-class bits `r--` instead, because with POSIX ACLs those bits are the ACL mask: at 0600 the
 *   mask would be `---` and the readers `midbot init` named could not read the key. This is only done
 *   when the default ACL gives the owning group nothing (`group::---`), so the ACL alone decides.
 * - Symlinks: the root folder must be a real folder, and a symlink planted at an artifact's name is
 *   refused (`symlink_in_destination`) rather than replaced: `rename` would swap the link itself and
 *   write nothing outside, but a link there means someone tampered with the folder, and a person
 *   should look. Folders above the root may be symlinks (`/var/run` → `/run` is common); they belong
 *   to whoever set up the machine.
 *
 * Residual race (Node has no `openat`, `O_PATH` or `RESOLVE_NO_SYMLINKS`): every operation resolves
 * the full path again, so between the check that the root is a real folder and an `open`/`rename`
 * inside it, someone able to rename entries in the root's *parent* folder could swap the root for a
 * symlink and have the temporary file created, and renamed, in another folder. `O_NOFOLLOW` and
 * `O_EXCL` protect only the last path component. Exploiting this needs write access to the parent of
 * the destination, which is root's or the owner's; keep that folder (e.g. `/opt`) writable by them only.
 * A symlink planted at an artifact's name between our last check and the `rename` is replaced by the
 * new file (rename never follows it), so nothing is written outside the folder in that case.
 */

export interface DirectoryDestinationOptions {
  /** @default node:fs/promises */
  readonly fs?: DirectoryFs;
  /** Suffix for temporary file names. @default 8 random bytes as hex */
  readonly randomSuffix?: () => string;
  /**
   * Whether the folder's default ACL names readers and gives the owning group nothing.
   * @default runs `getfacl --default` (false when getfacl is missing or fails)
   */
  readonly readerAclProbe?: (folder: string) => Promise<boolean>;
  /**
   * What the folder holds, for the advice in errors: an output's artifacts (`midbot init` prepares
   * such a folder for its readers), midbot's own renewable identity (`storage`, which no reader may
   * share), or a consumer's copy of an identity (`copy`, written by the consumer library, where advice
   * about midbot would mislead). @default 'output'
   */
  readonly purpose?: DirectoryPurpose;
}

export type DirectoryPurpose = 'output' | 'storage' | 'copy';

const SECRET_MODE = 0o600;
const PUBLIC_MODE = 0o644;
/** With a default ACL, the group bits become the mask: `r--` lets named readers in, nobody else. */
const SECRET_MODE_WITH_READER_ACL = 0o640;
const CREATED_FOLDER_MODE = 0o700;

/** Our temporary files: `.<artifact>.<16 hex>.tmp`, and the writability probe's `.write-probe.<hex>.tmp`. */
export const TEMP_FILE = /^\.[^/]+\.[0-9a-f]{16}\.tmp$/;
/**
 * A temporary file older than this was left by a process killed mid-write (a live write takes
 * milliseconds), and may hold a private key: the first write of a run removes it.
 */
const STALE_TEMP_MS = 10 * 60_000;

const WRITE_FLAGS = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
// O_NONBLOCK so that a FIFO planted at an artifact's name cannot hang the bot.
const READ_FLAGS = constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK;

interface PendingFile {
  readonly name: string;
  readonly target: string;
  readonly temp: string;
}

export class DirectoryDestination implements Destination {
  readonly root: string;
  private readonly fs: DirectoryFs;
  private readonly randomSuffix: () => string;
  private readonly readerAclProbe: (folder: string) => Promise<boolean>;
  private readonly purpose: DirectoryPurpose;
  /** Which files of an output's folder are midbot's (`.midbot-files.json`). */
  private readonly ownership: FolderOwnership;
  private sweptStaleTemps = false;

  /** @param root absolute path of the folder (the config schema has normalised it). */
  constructor(root: string, options: DirectoryDestinationOptions = {}) {
    if (!path.isAbsolute(root) || root.split('/').includes('..')) {
      throw new DestinationError(
        'invalid_destination_path',
        `destination folder ${JSON.stringify(root)} must be an absolute path without ".."`,
      );
    }
    this.root = path.normalize(root);
    this.fs = options.fs ?? nodeFs;
    this.randomSuffix = options.randomSuffix ?? (() => randomBytes(8).toString('hex'));
    this.readerAclProbe = options.readerAclProbe ?? hasReaderDefaultAcl;
    this.purpose = options.purpose ?? 'output';
    this.ownership = new FolderOwnership({
      root: this.root,
      readdir: () =>
        this.fs.readdir(this.root).catch((error: unknown) => {
          throw this.fsError(error, this.root, NOTHING_WRITTEN);
        }),
      lstat: (name) => this.fs.lstat(path.join(this.root, name)),
      lstatFolder: () => this.fs.lstat(this.root),
      unlink: (name) => this.fs.unlink(path.join(this.root, name)),
      readFile: (name) => this.readFile(name),
      isTemporary: (name) => TEMP_FILE.test(name),
    });
  }

  describe(): string {
    return `directory ${this.root}`;
  }

  async write(files: readonly ArtifactFile[], metadata?: OutputMetadata): Promise<void> {
    checkArtifactFiles(files);
    const root = await this.ensureRoot();
    await this.sweepStaleTemps();
    // An output's folder also gets the list of what midbot wrote there, renamed in with the files.
    // A symlink or a folder at a name says more (tampering?) than that midbot did not write it.
    for (const file of files) await this.checkTarget(file.name);
    const owned = this.purpose === 'output' ? await this.ownership.after(files, metadata?.bot) : undefined;
    const toWrite = owned === undefined ? files : [...files, owned.list];
    if (owned !== undefined) await this.checkTarget(OWNED_FILES_LIST);
    // Only an output's key is for readers. The bot's own identity (storage) and a consumer's copy stay
    // 0600 even in a folder `midbot init` prepared for a reader: the chmod also empties the ACL mask.
    const readerAcl =
      this.purpose === 'output' && files.some((file) => file.secret)
        ? await this.readerAclProbe(this.root)
        : false;

    const pending: PendingFile[] = [];
    try {
      for (const file of toWrite) {
        const item = {
          name: file.name,
          target: path.join(this.root, file.name),
          temp: path.join(this.root, `.${file.name}.${this.randomSuffix()}.tmp`),
        };
        await this.writeTemp(item, file, readerAcl, pending);
      }
      // Look again right before replacing anything: the writes above took time.
      for (const file of toWrite) await this.checkTarget(file.name);
    } catch (error) {
      await this.removeTemps(pending);
      throw error;
    }

    // All renames are handed to the kernel at once, so that a reader sees the old set or the new one
    // for all but the microseconds they take: one after another, with other outputs' writes in between,
    // a reader could pair a new key with the old certificate for milliseconds.
    const renamed = await Promise.allSettled(pending.map((item) => this.fs.rename(item.temp, item.target)));
    const failed = pending.filter((_, index) => renamed[index]?.status === 'rejected');
    const firstFailure = renamed.find((result) => result.status === 'rejected');
    if (firstFailure !== undefined && failed[0] !== undefined) {
      await this.removeTemps(failed);
      const replaced = pending
        .filter((item) => !failed.includes(item) && item.name !== OWNED_FILES_LIST)
        .map((item) => item.name);
      const kept =
        replaced.length > 0
          ? `already replaced: ${replaced.join(', ')}; the other files are the previous versions`
          : KEPT[this.purpose];
      throw this.fsError(firstFailure.reason, failed[0].target, { kept });
    }
    await this.syncRoot();
    await this.ownership.removeStale(owned?.stale ?? [], root);
  }

  async read(name: string): Promise<Buffer | undefined> {
    checkArtifactName(name);
    return this.readFile(name);
  }

  /** A file of the folder, or undefined when there is none; symlinks and non-files refused. */
  private async readFile(name: string): Promise<Buffer | undefined> {
    const target = path.join(this.root, name);
    try {
      const root = await this.fs.lstat(this.root);
      if (root.isSymbolicLink()) throw rootIsSymlink(this.root, this.noun(), this.purpose);
      if (!root.isDirectory()) throw this.rootNotAFolder();
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return undefined;
      throw error instanceof DestinationError ? error : this.fsError(error, this.root, READING);
    }
    let handle: DirectoryFileHandle;
    try {
      handle = await this.fs.open(target, READ_FLAGS);
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return undefined;
      throw this.fsError(error, target, READING);
    }
    try {
      if (!(await handle.stat()).isFile()) throw notAFile(target);
      return await handle.readFile();
    } catch (error) {
      throw error instanceof DestinationError ? error : this.fsError(error, target, READING);
    } finally {
      await handle.close().catch(() => {});
    }
  }

  /**
   * Creates the folder when missing, then creates and removes a probe file in it: a caller about to do
   * something it cannot undo (midbot joining with a single-use token) learns first that writing here
   * fails, and why.
   */
  async checkWritable(artifactNames: readonly string[] = []): Promise<void> {
    await this.ensureRoot(NOTHING_WRITTEN);
    // Files of someone else's where these would go: refused now, not after the join at the write.
    if (this.purpose === 'output' && artifactNames.length > 0) {
      for (const name of artifactNames) await this.checkTarget(name);
      await this.ownership.check(artifactNames);
    }
    const probe = path.join(this.root, `.write-probe.${this.randomSuffix()}.tmp`);
    let handle: DirectoryFileHandle;
    try {
      handle = await this.fs.open(probe, WRITE_FLAGS, SECRET_MODE);
    } catch (error) {
      throw this.fsError(error, this.root, NOTHING_WRITTEN);
    }
    try {
      await handle.writeFile('midbot write probe\n');
    } catch (error) {
      throw this.fsError(error, this.root, NOTHING_WRITTEN);
    } finally {
      await handle.close().catch(() => {});
      await this.fs.unlink(probe).catch(() => {});
    }
  }

  /** Makes the folder when missing; which folder it is, to tell later whether it was swapped. */
  private async ensureRoot(how?: FsErrorHow): Promise<FolderIdentity> {
    let stats: Awaited<ReturnType<DirectoryFs['lstat']>>;
    try {
      stats = await this.fs.lstat(this.root);
    } catch (error) {
      if (!isErrno(error, 'ENOENT')) throw this.fsError(error, this.root, how);
      try {
        // One plain mkdir per missing folder, so a failure gives its real reason (see makeFolders).
        await makeFolders(this.root, CREATED_FOLDER_MODE, {
          mkdir: (folder, options) => this.fs.mkdir(folder, options),
          stat: (folder) => this.fs.lstat(folder),
        });
        stats = await this.fs.lstat(this.root);
      } catch (mkdirError) {
        throw this.fsError(mkdirError, this.root, how);
      }
    }
    if (stats.isSymbolicLink()) throw rootIsSymlink(this.root, this.noun(), this.purpose);
    if (!stats.isDirectory()) throw this.rootNotAFolder();
    return { dev: stats.dev, ino: stats.ino };
  }

  private rootNotAFolder(): DestinationError {
    return new DestinationError(
      'destination_not_a_folder',
      `${this.noun()} ${this.root} exists but is not a folder (a file is in the way); move it away or choose another path`,
    );
  }

  /** How errors name the folder. */
  private noun(): string {
    return this.purpose === 'storage' ? 'storage directory' : 'destination';
  }

  private fsError(error: unknown, target: string, how?: FsErrorHow): DestinationError {
    return mapFsError(error, target, this.root, this.purpose, how);
  }

  /** A missing target is fine; a symlink or anything but a regular file is refused. */
  private async checkTarget(name: string): Promise<void> {
    const target = path.join(this.root, name);
    let stats: Awaited<ReturnType<DirectoryFs['lstat']>>;
    try {
      stats = await this.fs.lstat(target);
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return;
      throw this.fsError(error, target);
    }
    if (stats.isSymbolicLink()) {
      throw new DestinationError(
        'symlink_in_destination',
        `${target} is a symlink; ${this.purpose === 'copy' ? 'identity files are' : 'midbot'} never ${this.purpose === 'copy' ? 'written' : 'writes'} through symlinks. Someone may have tampered with ${this.root}: check who created the link, remove it, and ${this.purpose === 'copy' ? 'write the identity again' : 'run midbot again'}`,
      );
    }
    if (!stats.isFile()) throw notAFile(target);
  }

  private async writeTemp(
    item: PendingFile,
    file: ArtifactFile,
    readerAcl: boolean,
    pending: PendingFile[],
  ): Promise<void> {
    const mode = file.secret ? (readerAcl ? SECRET_MODE_WITH_READER_ACL : SECRET_MODE) : PUBLIC_MODE;
    let handle: DirectoryFileHandle;
    try {
      handle = await this.fs.open(item.temp, WRITE_FLAGS, mode);
    } catch (error) {
      throw this.fsError(error, item.target);
    }
    pending.push(item);
    try {
      await handle.writeFile(typeof file.data === 'string' ? file.data : new Uint8Array(file.data));
      // Under a default ACL, chmod would rewrite the ACL mask and `other`; the ACL decides there.
      if (!readerAcl) await handle.chmod(mode);
      await handle.sync();
    } catch (error) {
      throw this.fsError(error, item.target);
    } finally {
      await handle.close().catch(() => {});
    }
  }

  /**
   * Removes temporary files that a killed process left behind (see {@link STALE_TEMP_MS}), once per
   * destination. Best effort: a file that cannot be listed or removed is left for the next run.
   */
  private async sweepStaleTemps(): Promise<void> {
    if (this.sweptStaleTemps) return;
    this.sweptStaleTemps = true;
    const names = await this.fs.readdir(this.root).catch(() => [] as string[]);
    const now = Date.now();
    for (const name of names.filter((entry) => TEMP_FILE.test(entry))) {
      const temp = path.join(this.root, name);
      try {
        const stats = await this.fs.lstat(temp);
        if (stats.isFile() && now - stats.mtimeMs > STALE_TEMP_MS) await this.fs.unlink(temp);
      } catch {
        // Gone already, or not ours to remove: nothing to do.
      }
    }
  }

  private async removeTemps(pending: readonly PendingFile[]): Promise<void> {
    for (const item of pending) {
      await this.fs.unlink(item.temp).catch(() => {});
    }
  }

  /** Makes the renames durable; best effort, since some filesystems refuse fsync on a folder. */
  private async syncRoot(): Promise<void> {
    try {
      const handle = await this.fs.open(this.root, constants.O_RDONLY | constants.O_DIRECTORY);
      await handle.sync().finally(() => handle.close());
    } catch {
      // The files themselves were fsynced; only the folder entry's durability is at stake.
    }
  }
}
