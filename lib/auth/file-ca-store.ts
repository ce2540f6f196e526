import { randomUUID } from 'node:crypto';
import { linkSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { StorageError } from '../core/errors.js';
import { makeFoldersSync } from '../core/make-folders.js';
import type { CaStore, StoredCas } from './certificate-authorities.js';

/**
 * Keeps the CA keys in `<data-dir>/ca/cas.json`, mode 0600, folder 0700.
 *
 * First-start races are settled by the file system: the candidate is written to a private temp file
 * and hard-linked to the final name, which fails if another process got there first; the loser then
 * reads the winner's CAs.
 */
export class FileCaStore implements CaStore {
  private readonly folder: string;
  private readonly file: string;

  constructor(dataDir: string) {
    this.folder = join(dataDir, 'ca');
    this.file = join(this.folder, 'cas.json');
  }

  async load(): Promise<StoredCas | undefined> {
    let text: string;
    try {
      text = readFileSync(this.file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new StorageError(
        'ca_unreadable',
        `cannot read the CA keys at ${this.file}: ${(error as Error).message}`,
        {
          cause: error,
        },
      );
    }
    try {
      return JSON.parse(text) as StoredCas;
    } catch (error) {
      throw new StorageError(
        'ca_corrupt',
        `the CA key file ${this.file} is not valid JSON; restore it from a backup (a new file would mean new CAs and every bot re-joining)`,
        { cause: error },
      );
    }
  }

  async createIfAbsent(cas: StoredCas): Promise<StoredCas> {
    makeFoldersSync(this.folder, 0o700);
    const temp = `${this.file}.${randomUUID()}.tmp`;
    writeFileSync(temp, JSON.stringify(cas), { mode: 0o600, flag: 'wx' });
    try {
      linkSync(temp, this.file);
      return cas;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
        throw new StorageError(
          'ca_unwritable',
          `cannot create the CA keys at ${this.file}: ${(error as Error).message}`,
          {
            cause: error,
          },
        );
      }
      const winner = await this.load();
      if (winner === undefined)
        throw new StorageError('ca_unreadable', `the CA keys at ${this.file} vanished`);
      return winner;
    } finally {
      unlinkSync(temp);
    }
  }
}
