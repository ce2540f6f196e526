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
 * The names on a list's text. A list that cannot be read counts as none: the check then falls back on
 * what else the folder holds (see {@link refuseReplacingOthersFiles}), and the next write rewrites it.
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
}

/**
 * Refuses to replace a file midbot did not write in a folder that holds other files it did not write
 * either: a folder of someone's, not one given to midbot. A file at an artifact's name in a folder
 * holding nothing else is taken as midbot's (a folder written before the list existed, or one made
 * for the bot); so is one on the list.
 *
 * @throws DestinationError `destination_holds_other_files`, naming the files and the fix
 */
export function refuseReplacingOthersFiles(planned: PlannedWrite): void {
  const present = new Set(planned.entries);
  const notOurs = planned.writing.filter((name) => present.has(name) && !planned.owned.has(name));
  if (notOurs.length === 0) return;
  const writing = new Set(planned.writing);
  const others = planned.entries.filter((name) => !writing.has(name) && !planned.owned.has(name)).sort();
  if (others.length === 0) return;
  const shown = others.length > 5 ? `${others.slice(0, 5).join(', ')}, …` : others.join(', ');
  throw new DestinationError(
    'destination_holds_other_files',
    `${planned.folder} already holds ${notOurs.join(', ')}, which midbot did not write and would replace, among other files that are not midbot's (${shown}): it looks like a folder of yours. Give the output a folder of its own (such as ${planned.folder.replace(/\/$/, '')}/machine-id); nothing was written`,
  );
}
