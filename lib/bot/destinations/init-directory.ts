import * as fs from 'node:fs/promises';
import path from 'node:path';
import { ConfigError, DestinationError } from '../../core/errors.js';
import { FOLDER_NOT_CREATABLE, makeFolders } from '../../core/make-folders.js';
import { STORAGE_LOCK_FILE } from '../agent/storage-lock.js';
import { STORED_IDENTITY_FILE } from '../agent/stored-identity.js';
import { adoptFolderFile } from './adopt-folder-file.js';
import { refuseOthersFilesBeforeInit } from './init-foreign-files.js';
import {
  type Account,
  type CommandRunner,
  lookupGroup,
  lookupOwner,
  lookupUser,
  runOrExplain,
  runTool,
} from './system-accounts.js';

/**
 * `midbot init --destination-dir D --owner U:G --bot-user B --reader-user R`, the `tbot init` step of
 * the guides: prepares a destination folder so that the bot user can write artifacts and the reader
 * user (the service that consumes them) can read them, and nobody else can.
 *
 * Like `tbot init`, it sets the owner and POSIX ACL entries for the bot and reader users
 * (numeric uids, mask, `group::---`, `other::---`). Unlike tbot, which pre-creates each artifact and
 * sets an ACL on every file because it rewrites files in place, midbot replaces files by rename, so a
 * new file would not carry a per-file ACL: init sets a *default* ACL on the folder instead, which every
 * new file inherits (`d:u:B:rw-`, `d:u:R:r--`, `d:g::---`, `d:o::---`). Files already in the folder
 * get the same ACL.
 *
 * The bot user gets `rwx` on the folder (it creates temporary files and renames them), the reader `r-x`.
 */
export interface InitDirectoryOptions {
  /** Absolute path of the destination folder; created (mode 0700) when missing. */
  readonly destinationDir: string;
  /** The user midbot runs as (name or uid). */
  readonly botUser: string;
  /** The user of the service that reads the artifacts (name or uid). */
  readonly readerUser: string;
  /** `user:group` to own the folder. @default the bot user and its primary group */
  readonly owner?: string;
  /** Runs `getent` and `setfacl`. @default execFile with a fixed PATH and LC_ALL=C */
  readonly run?: CommandRunner;
}

export interface InitDirectoryResult {
  readonly path: string;
  /** True when init created the folder. */
  readonly created: boolean;
  readonly owner: { readonly user: Account; readonly group: Account };
  readonly botUser: Account;
  readonly readerUser: Account;
  /** The `setfacl --set` spec applied to the folder (access and default entries). */
  readonly folderAcl: string;
  /** The spec applied to each file already in the folder. */
  readonly fileAcl: string;
  /** Regular files already in the folder whose owner and ACL were set. */
  readonly filesUpdated: readonly string[];
  /** Entries left alone (symlinks, folders, pipes, hard links): midbot never writes through them. */
  readonly entriesSkipped: readonly string[];
  /** Folders above the destination the reader may not be able to enter. */
  readonly warnings: readonly string[];
  /** What init did, one line per step, for the CLI to print. */
  readonly description: string;
}

/** See {@link InitDirectoryOptions}. Must run as root (or as the folder's owner when no chown is needed). */
export async function initDirectory(options: InitDirectoryOptions): Promise<InitDirectoryResult> {
  const run = options.run ?? runTool;
  const dir = checkFolderPath(options.destinationDir);

  const botUser = await lookupUser(run, options.botUser, '--bot-user');
  const readerUser = await lookupUser(run, options.readerUser, '--reader-user');
  const owner = options.owner
    ? await lookupOwner(run, options.owner)
    : { user: botUser.account, group: await lookupGroup(run, String(botUser.primaryGid), '--bot-user') };

  const lines: string[] = [];
  const created = await ensureFolder(dir);
  if (!created) {
    const names = await wrapFs(() => fs.readdir(dir), dir, 'list');
    refuseBotStorage(dir, names, readerUser.account.name);
    await refuseOthersFilesBeforeInit(dir, names);
  }
  lines.push(created ? `created ${dir}` : `using existing folder ${dir}`);

  // lchown and `setfacl -P` never follow a symlink: init runs as root in a folder another user owns.
  await wrapFs(() => fs.lchown(dir, owner.user.id, owner.group.id), dir, 'set the owner of');
  lines.push(`owner ${owner.user.name}:${owner.group.name}`);

  const folderAcl = aclSpec(owner.user.id, botUser.account.id, readerUser.account.id, 'folder');
  const fileAcl = aclSpec(owner.user.id, botUser.account.id, readerUser.account.id, 'file');
  await setfacl(run, folderAcl, dir);
  lines.push(
    `ACL: ${botUser.account.name} may write, ${readerUser.account.name} may read, group and others get nothing; new files inherit this (default ACL)`,
  );

  const filesUpdated: string[] = [];
  const entriesSkipped: string[] = [];
  for (const name of await wrapFs(() => fs.readdir(dir), dir, 'list')) {
    const entryPath = path.join(dir, name);
    // A hard link could point at a file outside the folder (say /etc/shadow, planted by the folder's
    // owner); only regular files with one link are certainly the folder's own, and they are changed
    // through the descriptor that checked them (see adoptFolderFile).
    const adopted = await wrapFs(
      () => adoptFolderFile(entryPath, owner, (opened) => setfacl(run, fileAcl, entryPath, opened)),
      entryPath,
      'set the owner of',
    );
    (adopted ? filesUpdated : entriesSkipped).push(name);
  }
  if (filesUpdated.length > 0)
    lines.push(`updated owner and ACL of existing files: ${filesUpdated.join(', ')}`);
  if (entriesSkipped.length > 0) {
    lines.push(
      `left alone (not plain files of one link, such as folders, symlinks, pipes and hard links; midbot never writes through them): ${entriesSkipped.join(', ')}`,
    );
  }

  const warnings = await findClosedAncestors(dir);
  if (readerUser.account.id === owner.user.id) {
    warnings.push(
      `the reader ${readerUser.account.name} owns the folder, so the ACL adds nothing for it; usually the reader is another user than the bot`,
    );
  }
  lines.push(...warnings.map((warning) => `warning: ${warning}`));

  return {
    path: dir,
    created,
    owner,
    botUser: botUser.account,
    readerUser: readerUser.account,
    folderAcl,
    fileAcl,
    filesUpdated,
    entriesSkipped,
    warnings,
    description: lines.join('\n'),
  };
}

/**
 * The `setfacl --set` text. Entries for a user who owns the folder are left out (the owner entry
 * covers them); one user named as both bot and reader gets the union of both.
 */
function aclSpec(ownerUid: number, botUid: number, readerUid: number, kind: 'folder' | 'file'): string {
  const named = new Map<number, number>();
  const grant = (uid: number, bits: number) => {
    if (uid !== ownerUid) named.set(uid, (named.get(uid) ?? 0) | bits);
  };
  const R = 4;
  const W = 2;
  const X = 1;
  if (kind === 'folder') {
    grant(botUid, R | W | X);
    grant(readerUid, R | X);
  } else {
    grant(botUid, R | W);
    grant(readerUid, R);
  }
  const mask = [...named.values()].reduce((all, bits) => all | bits, 0);
  const entries = (prefix: string, ownerBits: number, users: Map<number, number>, maskBits: number) => [
    `${prefix}u::${perm(ownerBits)}`,
    ...[...users].map(([uid, bits]) => `${prefix}u:${uid}:${perm(bits)}`),
    `${prefix}g::---`,
    `${prefix}m::${perm(maskBits)}`,
    `${prefix}o::---`,
  ];
  if (kind === 'file') return entries('', R | W, named, mask).join(',');
  // What new files inherit: the file entries.
  const fileNamed = new Map<number, number>();
  for (const [uid, bits] of named) fileNamed.set(uid, bits & (R | W));
  const fileMask = [...fileNamed.values()].reduce((all, bits) => all | bits, 0);
  return [...entries('', R | W | X, named, mask), ...entries('d:', R | W, fileNamed, fileMask)].join(',');
}

function perm(bits: number): string {
  return `${bits & 4 ? 'r' : '-'}${bits & 2 ? 'w' : '-'}${bits & 1 ? 'x' : '-'}`;
}

function checkFolderPath(dir: string): string {
  if (!path.isAbsolute(dir) || dir.split('/').includes('..') || dir.includes('\0')) {
    throw new ConfigError(
      'invalid_config',
      `--destination-dir: got ${JSON.stringify(dir)}, expected an absolute path without ".." such as /opt/machine-id`,
    );
  }
  const normal = path.normalize(dir);
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
}

/**
 * Refuses a folder that holds a bot's storage (`--data-dir`): its renewable identity would become
 * readable by the reader, and stay so, as every later renewal inherits the default ACL.
 */
function refuseBotStorage(dir: string, names: readonly string[], readerName: string): void {
  const found = [STORED_IDENTITY_FILE, STORAGE_LOCK_FILE].filter((name) => names.includes(name));
  if (found.length === 0) return;
  throw new DestinationError(
    'destination_is_bot_storage',
    `${dir} holds a bot's storage (${found.join(', ')}): its renewable identity, which ${readerName} must never read. Give the outputs a folder of their own outside it, such as ${dir}-out, run init on that, and keep --data-dir private to the bot`,
  );
}

async function ensureFolder(dir: string): Promise<boolean> {
  const stats = await fs.lstat(dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw fsError(error, dir, 'inspect');
  });
  if (stats === undefined) {
    await wrapFs(() => makeFolders(dir, 0o700), dir, 'create');
    return true;
  }
  if (stats.isSymbolicLink()) {
    throw new DestinationError(
      'symlink_in_destination',
      `${dir} is a symlink; midbot does not follow symlinks in a destination. Run init on the folder the link leads to and use that path in the config`,
    );
  }
  if (!stats.isDirectory()) {
    throw new DestinationError(
      'destination_not_a_folder',
      `${dir} exists but is not a folder; move it away or choose another path`,
    );
  }
  return false;
}

/** Folders above `dir` that others cannot enter: the reader needs `x` on each, unless a group grants it. */
async function findClosedAncestors(dir: string): Promise<string[]> {
  const warnings: string[] = [];
  for (let current = path.dirname(dir); ; current = path.dirname(current)) {
    const stats = await fs.stat(current).catch(() => undefined);
    if (stats && (stats.mode & 0o001) === 0) {
      warnings.push(
        `${current} is not searchable by others (mode ${(stats.mode & 0o777).toString(8)}); the reader may need \`chmod o+x ${current}\``,
      );
    }
    if (current === path.dirname(current)) break;
  }
  return warnings;
}

/**
 * `setfacl --set` on `target`, never through a symlink (`-P`); or, given `opened` (a `/proc/<pid>/fd/<fd>`
 * of a file this process holds open), on that file, reached through its descriptor's link (which `-P`
 * would skip). Refusals name `target`.
 */
async function setfacl(run: CommandRunner, spec: string, target: string, opened?: string): Promise<void> {
  const args = opened === undefined ? ['-P', '--set', spec, '--', target] : ['--set', spec, '--', opened];
  const result = await runOrExplain(run, 'setfacl', args, 'setfacl (package "acl")');
  if (result.code === 0) return;
  const detail = result.stderr.trim();
  if (/not supported/i.test(detail)) {
    throw new DestinationError(
      'acl_unsupported',
      `cannot set an ACL on ${target}: the filesystem does not support POSIX ACLs (${detail}); use a folder on a filesystem with ACLs (ext4, xfs, btrfs) or remount with the acl option`,
    );
  }
  if (/not permitted|permission denied/i.test(detail)) {
    throw new DestinationError(
      'destination_permission_denied',
      `cannot set an ACL on ${target}: ${detail}; run midbot init as root or as the folder's owner`,
    );
  }
  throw new DestinationError('init_failed', `setfacl failed on ${target} (exit ${result.code}): ${detail}`);
}

async function wrapFs<T>(action: () => Promise<T>, target: string, verb: string): Promise<T> {
  try {
    return await action();
  } catch (error) {
    throw fsError(error, target, verb);
  }
}

function fsError(error: unknown, target: string, verb: string): DestinationError {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EPERM' || code === 'EACCES') {
    return new DestinationError(
      'destination_permission_denied',
      `cannot ${verb} ${target}: permission denied; run midbot init as root`,
      { cause: error },
    );
  }
  const why = INIT_PROBLEMS[code ?? ''] ?? code ?? (error as Error).message;
  return new DestinationError('init_failed', `cannot ${verb} ${target}: ${why}`, { cause: error });
}

/** Words for the other errors a folder meets when `midbot init` creates or prepares it. */
const INIT_PROBLEMS: Record<string, string> = {
  ENOENT: FOLDER_NOT_CREATABLE,
  ENOTDIR:
    'a file is in the way on its path, where a folder should be (ENOTDIR); move it away or choose another path',
  EROFS: 'the filesystem is mounted read-only (EROFS); choose a writable folder',
};
