import type { StorageConfig } from '../config/bot-config.js';
import type { Destination } from '../destinations/destination.js';
import { DirectoryDestination } from '../destinations/directory-destination.js';
import { MemoryDestination } from '../destinations/memory-destination.js';
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
  /** The stored identity, or undefined when none was saved yet. @throws StorageError when unreadable */
  load(): Promise<StoredIdentity | undefined>;
  /** Replaces the stored identity as one unit (or leaves the previous one on failure). */
  save(identity: StoredIdentity): Promise<void>;
}

/**
 * An identity store over a destination: the directory destination gives the atomic replace, mode 0600
 * and the refusal of planted symlinks (SECURITY rule 12) that the identity needs as much as any output.
 */
export class DestinationIdentityStore implements IdentityStore {
  constructor(private readonly destination: Destination) {}

  describe(): string {
    return this.destination.describe();
  }

  async load(): Promise<StoredIdentity | undefined> {
    const data = await this.destination.read(STORED_IDENTITY_FILE);
    if (data === undefined) return undefined;
    return parseStoredIdentity(data.toString('utf8'), `${this.describe()}/${STORED_IDENTITY_FILE}`);
  }

  async save(identity: StoredIdentity): Promise<void> {
    await this.destination.write([
      { name: STORED_IDENTITY_FILE, data: serializeStoredIdentity(identity), secret: true },
    ]);
  }
}

/** The store the config's `storage` describes. */
export function identityStoreFor(storage: StorageConfig): IdentityStore {
  return new DestinationIdentityStore(
    storage.type === 'directory' ? new DirectoryDestination(storage.path) : new MemoryDestination(),
  );
}
