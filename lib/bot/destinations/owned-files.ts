import * as z from 'zod';
import { DestinationError } from '../../core/errors.js';

/**
 * The list, in an output's destination folder, of the files midbot has written there. A folder given
 * by mistake (`--destination-dir ~/.ssh`) may hold a file of the user's at an artifact's name
 * (`known_hosts`), which a write would replace for good. The list tells midbot's own files from
 * those: a name on it is midbot's to replace. Hidden (a leading dot, like the temporary files), so
 * nothing reading the artifacts sees it.
 */
export const OWNED_FILES_LIST = '.midbot-files.json';

/** `bot`: whose artifacts the files are (absent from lists an older midbot wrote). */
const ownedFilesSchema = z.object({
  written_by: z.literal('midbot'),
  bot: z.string().optional(),
  files: z.array(z.string()),
});

/** What a folder's list says: the files midbot wrote there, and for which bot. */
export interface OwnedFilesList {
  readonly files: ReadonlySet<string>;
  readonly bot?: string;
}

/**
 * A list's text, read. A list that cannot be read counts as naming nothing: every file already at an
 * artifact's name is then refused (see {@link refuseReplacingOthersFiles}) until someone looks.
 */
export function readOwnedFilesList(text: string | undefined): OwnedFilesList {
  if (text === undefined) return { files: new Set() };
  try {
    const parsed = ownedFilesSchema.safeParse(JSON.parse(text));
    if (!parsed.success) return { files: new Set() };
    const { files, bot } = parsed.data;
    return bot === undefined ? { files: new Set(files) } : { files: new Set(files), bot };
  } catch {
    return { files: new Set() };
  }
}

/** The names on a list's text (see {@link readOwnedFilesList}). */
export function parseOwnedFiles(text: string | undefined): ReadonlySet<string> {
  return readOwnedFilesList(text).files;
}

/** The text of the list naming `names`, written for `bot`'s artifacts. */
export function ownedFilesText(names: Iterable<string>, bot?: string): string {
  const list = {
    written_by: 'midbot',
    ...(bot === undefined ? {} : { bot }),
    files: [...new Set(names)].sort(),
  };
  return `${JSON.stringify(list, null, 2)}\n`;
}

/**
 * Refuses to write one bot's artifacts over another bot's: two bots given the same folder by mistake
 * would each replace the other's identity at every run, and whatever reads the folder would present
 * one bot's certificate one moment and the other's the next. A folder whose `entries` no longer hold
 * any of the files on the other bot's list is handed over: its files were moved out (a `mv out/*`
 * leaves the hidden list behind), and there is nothing of that bot's left to replace.
 */
export function refuseAnotherBotsFolder(
  folder: string,
  list: OwnedFilesList,
  bot: string | undefined,
  entries: readonly string[],
): void {
  const listed = list.bot;
  if (listed === undefined || bot === undefined || listed === bot) return;
  if (!entries.some((name) => list.files.has(name))) return;
  throw new DestinationError(
    'destination_of_another_bot',
    `${folder} holds the artifacts of bot "${listed}" (${OWNED_FILES_LIST} says so), and this output is bot "${bot}"'s: writing would replace "${listed}"'s identity there, and each bot would replace the other's at every run. Give each bot's output a folder of its own; to hand this folder to "${bot}" for good, first move "${listed}"'s files out of it; nothing was written`,
  );
}

/** What a write is about to do in a destination folder. */
export interface PlannedWrite {
  readonly folder: string;
  /** The artifact names to write. */
  readonly writing: readonly string[];
  /** The folder's entries now, but for midbot's temporary files and the list itself. */
  readonly entries: readonly string[];
  /** The names on the folder's list. */
  readonly owned: ReadonlySet<string>;
  /** Why a list the folder holds was not read (another user's, say): it then names nothing. */
  readonly listDistrusted?: string;
}

/**
 * Refuses to replace a file midbot did not write: one at an artifact's name that is not on the list
 * (or all of them, without a list). A folder given by mistake may hold nothing but the user's own
 * `known_hosts`; and a folder midbot wrote before it kept the list needs its old files removed once.
 *
 * @throws DestinationError `destination_holds_other_files`, naming the files and the fix
 */
export function refuseReplacingOthersFiles(planned: PlannedWrite): void {
  const present = new Set(planned.entries);
  const notOurs = planned.writing.filter((name) => present.has(name) && !planned.owned.has(name));
  if (notOurs.length === 0) return;
  const them = notOurs.length > 1 ? 'them' : 'it';
  if (planned.listDistrusted !== undefined) {
    throw new DestinationError(
      'destination_holds_other_files',
      `${planned.folder} already holds ${notOurs.join(', ')}, which midbot cannot tell it wrote: ${planned.listDistrusted}, or move ${them} away if midbot may own ${notOurs.length > 1 ? 'these names' : 'that name'}; nothing was written`,
    );
  }
  throw new DestinationError(
    'destination_holds_other_files',
    `${planned.folder} already holds ${notOurs.join(', ')}, which midbot did not write (${OWNED_FILES_LIST} does not list ${them}) and would replace. Give the output a folder of its own (such as ${planned.folder.replace(/\/$/, '')}/machine-id), or move ${them} away if midbot may own ${notOurs.length > 1 ? 'these names' : 'that name'} (files an older midbot wrote there, before it kept that list, included); nothing was written`,
  );
}
