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

const ownedFilesSchema = z.object({ written_by: z.literal('midbot'), files: z.array(z.string()) });

/**
 * The names on a list's text. A list that cannot be read counts as none: every file already at an
 * artifact's name is then refused (see {@link refuseReplacingOthersFiles}) until someone looks.
 */
export function parseOwnedFiles(text: string | undefined): ReadonlySet<string> {
  if (text === undefined) return new Set();
  try {
    const parsed = ownedFilesSchema.safeParse(JSON.parse(text));
    return new Set(parsed.success ? parsed.data.files : []);
  } catch {
    return new Set();
  }
}

/** The text of the list naming `names`. */
export function ownedFilesText(names: Iterable<string>): string {
  return `${JSON.stringify({ written_by: 'midbot', files: [...new Set(names)].sort() }, null, 2)}\n`;
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
