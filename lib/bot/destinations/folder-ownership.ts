import { ALL_ARTIFACT_NAMES } from '../render/artifact-names.js';
import type { ArtifactFile } from './destination.js';
import {
  OWNED_FILES_LIST,
  type OwnedFilesList,
  ownedFilesText,
  readOwnedFilesList,
  refuseAnotherBotsFolder,
  refuseReplacingOthersFiles,
} from './owned-files.js';

/** A folder as the filesystem knows it, whatever path leads to it. */
export interface FolderIdentity {
  readonly dev: number;
  readonly ino: number;
}

/** What the ownership checks read of a file's stats. */
export interface FileStats extends FolderIdentity {
  isFile(): boolean;
  isSymbolicLink(): boolean;
  readonly uid: number;
  readonly nlink: number;
}

/** What the ownership checks need of the directory destination: its filesystem calls and reads. */
export interface OwnershipAccess {
  readonly root: string;
  readdir(): Promise<string[]>;
  /** A file of the folder's stats, not following a symlink. */
  lstat(name: string): Promise<FileStats>;
  /** The folder's own stats, not following a symlink. */
  lstatFolder(): Promise<FileStats>;
  unlink(name: string): Promise<void>;
  /** A file of the folder, checked as the destination reads any (no symlinks, no devices). */
  readFile(name: string): Promise<Buffer | undefined>;
  /** Names the destination's own temporary files, which are no one's artifacts. */
  isTemporary(name: string): boolean;
}

/**
 * Which files of an output's folder are midbot's, from `.midbot-files.json` (`owned-files.ts`): what
 * a write may replace, the list it leaves, and the files it made stale.
 */
export class FolderOwnership {
  constructor(private readonly folder: OwnershipAccess) {}

  /** The folder's entries and the files midbot wrote there, after refusing to replace anyone else's. */
  async check(
    writing: readonly string[],
    bot?: string,
  ): Promise<{ entries: string[]; owned: ReadonlySet<string> }> {
    const names = await this.folder.readdir();
    const entries = names.filter((name) => !this.folder.isTemporary(name) && name !== OWNED_FILES_LIST);
    const distrust = names.includes(OWNED_FILES_LIST) ? await this.distrust(OWNED_FILES_LIST) : 'missing';
    const list: OwnedFilesList =
      distrust === undefined
        ? readOwnedFilesList((await this.folder.readFile(OWNED_FILES_LIST))?.toString('utf8'))
        : { files: new Set<string>() };
    const owned = list.files;
    refuseAnotherBotsFolder(this.folder.root, list, bot, entries);
    refuseReplacingOthersFiles({
      folder: this.folder.root,
      writing,
      entries,
      owned,
      // After `midbot init` gave the folder to the bot user, a run as root finds the list there but
      // cannot trust it: "the list does not name them" would send the user looking in the wrong place.
      ...(typeof distrust === 'object'
        ? {
            listDistrusted: `${OWNED_FILES_LIST} there belongs to uid ${distrust.uid}, and midbot, running as uid ${distrust.me}, trusts only a list its own user or root wrote; run midbot as the user that owns the folder (the --bot-user \`midbot init\` gave it to)`,
          }
        : {}),
    });
    return { entries, owned };
  }

  /**
   * The list of the files midbot wrote in this folder once `files` are written, after refusing to
   * replace a file of someone else's; and the files midbot wrote here before that this write leaves
   * out, stale once it is done (the output's type or naming changed).
   */
  async after(
    files: readonly ArtifactFile[],
    bot?: string,
  ): Promise<{ list: ArtifactFile; stale: string[] }> {
    const writing = files.map((file) => file.name);
    const { entries, owned } = await this.check(writing, bot);
    const stale = entries.filter((name) => owned.has(name) && !writing.includes(name));
    return {
      list: { name: OWNED_FILES_LIST, data: ownedFilesText(writing, bot), secret: false },
      stale,
    };
  }

  /**
   * Removes files an earlier write put here that this one replaced with nothing: certificates that
   * would only expire, and private keys that would stay. Only names some output writes, and only
   * files midbot itself made, in the folder the write was made in: whoever can edit the list, or swap
   * the folder for a link meanwhile, does not choose what goes. Best effort: a file that cannot be
   * removed is left (unlink never follows a symlink).
   */
  async removeStale(names: readonly string[], written: FolderIdentity): Promise<void> {
    const now = await this.folder.lstatFolder().catch(() => undefined);
    if (now === undefined || now.isSymbolicLink() || now.dev !== written.dev || now.ino !== written.ino) {
      return;
    }
    for (const name of names.filter((each) => ALL_ARTIFACT_NAMES.has(each))) {
      if (await this.isOurs(name)) await this.folder.unlink(name).catch(() => {});
    }
  }

  /**
   * Whether a file of the folder is a plain one that midbot made: not a link, one name, and owned by
   * midbot's user or by root (a first run with sudo, before the service ran as the bot user; nobody
   * else can make a file root's).
   */
  private async isOurs(name: string): Promise<boolean> {
    return (await this.distrust(name)) === undefined;
  }

  /**
   * Why a file of the folder is not one midbot made (see {@link isOurs}), or undefined when it is:
   * missing, not a plain file of one link, or another user's (that user's uid, and midbot's).
   */
  private async distrust(
    name: string,
  ): Promise<'missing' | 'not_plain' | { uid: number; me: number } | undefined> {
    const stats = await this.folder.lstat(name).catch(() => undefined);
    if (stats === undefined) return 'missing';
    if (!stats.isFile() || stats.nlink !== 1) return 'not_plain';
    const me = process.geteuid?.();
    if (me === undefined || stats.uid === me || stats.uid === 0) return undefined;
    return { uid: stats.uid, me };
  }
}
