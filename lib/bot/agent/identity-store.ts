import path from 'node:path';
import type { StorageConfig } from '../config/bot-config.js';
import type { Destination } from '../destinations/destination.js';
import {
  DirectoryDestination,
  type DirectoryDestinationOptions,
} from '../destinations/directory-destination.js';
import { MemoryDestination } from '../destinations/memory-destination.js';
import { BotRunError } from './bot-run-error.js';
import { acquireStorageLock, type StorageLock } from './storage-lock.js';
import {
  parseStoredIdentity,
  STORED_IDENTITY_FILE,
  type StoredIdentity,
  serializeStoredIdentity,
} from './stored-identity.js';

/** Where the bot keeps its renewable identity between runs (`storage` in the config). */
export interface IdentityStore {
  /** For logs and errors, e.g. `directory /var/lib/midbot`. */
  describe(): string;
  /**
   * True for memory storage: what is saved is gone when the process stops, so no later run can resume
   * from it and every start joins with a new token. @default false
   */
  readonly lostOnExit?: boolean;
  /** The stored identity, or undefined when none was saved yet. @throws StorageError when unreadable */
  load(): Promise<StoredIdentity | undefined>;
  /** Replaces the stored identity as one unit (or leaves the previous one on failure). */
  save(identity: StoredIdentity): Promise<void>;
  /**
   * Makes sure `save` can succeed before the agent does what it cannot undo: a join spends the
   * single-use token, and a renewal retires the identity in storage. Absent for stores that cannot
   * fail that way (memory). @throws BotRunError saying what to fix
   */
  checkWritable?(): Promise<void>;
  /**
   * Takes the store for this process until `release`, so that two runs never renew the same identity.
   * Absent for stores no other process can reach (memory).
   * @param label how the user named the store, for the refusal (`--data-dir`, `storage.path`)
   */
  lock?(label: string): Promise<StorageLock>;
}

/**
 * An identity store over a destination: the directory destination gives the atomic replace, mode 0600
 * and the refusal of planted symlinks (SECURITY rule 12) that the identity needs as much as any output.
 */
export class DestinationIdentityStore implements IdentityStore {
  readonly lostOnExit: boolean;

  constructor(
    private readonly destination: Destination,
    options: { readonly lostOnExit?: boolean } = {},
  ) {
    this.lostOnExit = options.lostOnExit ?? false;
  }

  describe(): string {
    return this.destination.describe();
  }

  async load(): Promise<StoredIdentity | undefined> {
    const data = await this.destination.read(STORED_IDENTITY_FILE);
    if (data === undefined) return undefined;
    return parseStoredIdentity(data.toString('utf8'), this.fileLabel());
  }

  /** How errors name the identity file. */
  protected fileLabel(): string {
    return `${this.describe()}/${STORED_IDENTITY_FILE}`;
  }

  async save(identity: StoredIdentity): Promise<void> {
    await this.destination.write([
      { name: STORED_IDENTITY_FILE, data: serializeStoredIdentity(identity), secret: true },
    ]);
  }
}

/**
 * `storage: directory`: the identity file in a folder that this process locks for its run, and that is
 * checked for writing before the agent joins or renews.
 */
export class DirectoryIdentityStore extends DestinationIdentityStore {
  private readonly directory: DirectoryDestination;

  /** @param folder absolute path (the config schema has normalised it). */
  constructor(folder: string, options: Omit<DirectoryDestinationOptions, 'purpose'> = {}) {
    const directory = new DirectoryDestination(folder, { ...options, purpose: 'storage' });
    super(directory);
    this.directory = directory;
  }

  /** Its path, which the operator can open (`directory /x/bot-identity.json` is none). */
  protected override fileLabel(): string {
    return path.join(this.directory.root, STORED_IDENTITY_FILE);
  }

  async checkWritable(): Promise<void> {
    try {
      await this.directory.checkWritable();
    } catch (error) {
      throw new BotRunError('checking that storage can be written', error, {
        hint: 'midbot checks this before it joins or renews, so the join token and any stored identity are unchanged.',
      });
    }
  }

  /** Checks the folder first, so that an unwritable one is reported with its fix rather than as a lock failure. */
  async lock(label: string): Promise<StorageLock> {
    await this.checkWritable();
    return acquireStorageLock(this.directory.root, { label });
  }
}

/** The store the config's `storage` describes. */
export function identityStoreFor(storage: StorageConfig): IdentityStore {
  return storage.type === 'directory'
    ? new DirectoryIdentityStore(storage.path)
    : new DestinationIdentityStore(new MemoryDestination(), { lostOnExit: true });
}
