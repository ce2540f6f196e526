import { randomUUID } from 'node:crypto';
import { StorageError } from '../../core/errors.js';

/**
 * The storage port of the auth service: a small key-value interface that an in-memory map, an embedded
 * SQLite file and a DynamoDB table can all implement with the same guarantees.
 *
 * Keys are `/`-separated paths whose first segment is the collection (`tokens/abc`, `bots/robot`,
 * `instances/robot/<id>`). `list` prefixes always start with a whole first segment plus `/`, which lets
 * DynamoDB use the collection as its partition key.
 *
 * Every write gives the item a new opaque `revision`; conditional writes compare it, which is what
 * makes single-use tokens, challenges and the renewal generation counter safe under concurrency.
 *
 * Expiry: an item whose `expiresAt` (epoch ms) is at or before the backend clock's now is treated as
 * absent by every operation, even before the backend physically removes it.
 */
export interface StoredItem {
  readonly key: string;
  /** JSON text. */
  readonly value: string;
  readonly revision: string;
  readonly expiresAt?: number;
}

export interface ItemInput {
  readonly key: string;
  readonly value: string;
  readonly expiresAt?: number;
}

/** The stored form of a write: the input with a fresh random revision. */
export function withNewRevision(input: ItemInput): StoredItem {
  return {
    key: input.key,
    value: input.value,
    revision: randomUUID(),
    ...(input.expiresAt === undefined ? {} : { expiresAt: input.expiresAt }),
  };
}

export interface ListOptions {
  /** At most this many items. */
  readonly limit?: number;
  /** Descending key order (newest first for time-ordered keys). */
  readonly reverse?: boolean;
  /**
   * Only keys that come after this one in the listing's order (greater, or smaller when `reverse`):
   * the last key of the previous page, to read on from there. It must start with the prefix (a key
   * of the listing), and need not exist any more.
   */
  readonly after?: string;
}

/** Refuses an `after` that is not a key of the listing: DynamoDB would refuse it as out of bounds. */
export function checkListAfter(prefix: string, options: ListOptions): void {
  if (options.after !== undefined && !options.after.startsWith(prefix)) {
    throw new StorageError(
      'storage_invalid_key',
      `list: "after" must be a key under the prefix "${prefix}" (the last key of the previous page)`,
    );
  }
}

export interface StorageBackend {
  get(key: string): Promise<StoredItem | undefined>;
  /** Unconditional upsert. */
  put(item: ItemInput): Promise<StoredItem>;
  /** Writes only if no live item has this key; `undefined` when one exists. */
  create(item: ItemInput): Promise<StoredItem | undefined>;
  /** Replaces the item only if its current revision is `expectedRevision`; `undefined` otherwise. */
  compareAndSwap(item: ItemInput, expectedRevision: string): Promise<StoredItem | undefined>;
  /**
   * Deletes the live item (only if its revision is `expectedRevision`, when given). Returns true when
   * this call removed it: of two concurrent deletes of one item exactly one sees true.
   */
  delete(key: string, expectedRevision?: string): Promise<boolean>;
  /**
   * Live items whose key starts with `prefix` (matched literally), in key order: code point order, which
   * is the UTF-8 byte order of SQLite and DynamoDB. A `limit` of 0 gives no items.
   */
  list(prefix: string, options?: ListOptions): Promise<StoredItem[]>;
  close(): Promise<void>;
}
