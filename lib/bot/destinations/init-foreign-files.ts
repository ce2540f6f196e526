import * as fs from 'node:fs/promises';
import path from 'node:path';
import { DestinationError } from '../../core/errors.js';
import { TEMP_FILE } from './directory-destination.js';
import { OWNED_FILES_LIST, parseOwnedFiles } from './owned-files.js';

/** The most names a refusal lists. */
const NAMES_SHOWN = 8;

/**
 * Refuses, before `midbot init` changes anything, an existing folder that holds files midbot did not
 * write (not on its {@link OWNED_FILES_LIST}): init gives the folder and its files to the bot user and
 * lets the reader read them, so a folder given by mistake (`~/.ssh`) would hand the owner's keys to
 * both. Entries init leaves alone (folders, symlinks, files of several links) are not refused.
 *
 * @throws DestinationError `destination_holds_other_files`, naming the files and the fix
 */
export async function refuseOthersFilesBeforeInit(dir: string, names: readonly string[]): Promise<void> {
  const listText = names.includes(OWNED_FILES_LIST)
    ? await fs.readFile(path.join(dir, OWNED_FILES_LIST), 'utf8').catch(() => undefined)
    : undefined;
  const owned = parseOwnedFiles(listText);
  const foreign: string[] = [];
  for (const name of names) {
    if (name === OWNED_FILES_LIST || owned.has(name) || TEMP_FILE.test(name)) continue;
    const stats = await fs.lstat(path.join(dir, name)).catch(() => undefined);
    // A file of several links is left alone by init (it may be anyone's), so it is not at risk here.
    if (stats?.isFile() && stats.nlink === 1) foreign.push(name);
  }
  if (foreign.length === 0) return;
  const shown =
    foreign.slice(0, NAMES_SHOWN).join(', ') +
    (foreign.length > NAMES_SHOWN ? `, and ${foreign.length - NAMES_SHOWN} more` : '');
  throw new DestinationError(
    'destination_holds_other_files',
    `${dir} holds files midbot did not write (${shown}; ${OWNED_FILES_LIST} does not list them): init would give them to the bot user and let the reader read them. Run init on an empty folder, or on one midbot writes (such as ${dir.replace(/\/$/, '')}/machine-id), or move those files away; nothing was changed`,
  );
}
