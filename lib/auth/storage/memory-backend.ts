import { type Clock, systemClock } from '../../core/clock.js';
import {
  checkListAfter,
  type ItemInput,
  type ListOptions,
  type StorageBackend,
  type StoredItem,
  withNewRevision,
} from './storage-backend.js';

/** In-process backend for unit tests and embedding. Same semantics as the durable backends. */
export class MemoryBackend implements StorageBackend {
  private readonly items = new Map<string, StoredItem>();

  constructor(private readonly clock: Clock = systemClock) {}

  private live(key: string): StoredItem | undefined {
    const item = this.items.get(key);
    if (item === undefined) return undefined;
    if (item.expiresAt !== undefined && item.expiresAt <= this.clock.now()) {
      this.items.delete(key);
      return undefined;
    }
    return item;
  }

  private write(input: ItemInput): StoredItem {
    const item = withNewRevision(input);
    this.items.set(input.key, item);
    return item;
  }

  async get(key: string): Promise<StoredItem | undefined> {
    return this.live(key);
  }

  async put(item: ItemInput): Promise<StoredItem> {
    return this.write(item);
  }

  async create(item: ItemInput): Promise<StoredItem | undefined> {
    if (this.live(item.key) !== undefined) return undefined;
    return this.write(item);
  }

  async compareAndSwap(item: ItemInput, expectedRevision: string): Promise<StoredItem | undefined> {
    const current = this.live(item.key);
    if (current === undefined || current.revision !== expectedRevision) return undefined;
    return this.write(item);
  }

  async delete(key: string, expectedRevision?: string): Promise<boolean> {
    const current = this.live(key);
    if (current === undefined) return false;
    if (expectedRevision !== undefined && current.revision !== expectedRevision) return false;
    this.items.delete(key);
    return true;
  }

  async list(prefix: string, options: ListOptions = {}): Promise<StoredItem[]> {
    checkListAfter(prefix, options);
    const { after } = options;
    const keys = [...this.items.keys()]
      .filter((key) => key.startsWith(prefix))
      .filter((key) => after === undefined || compareCodePoints(key, after) * (options.reverse ? -1 : 1) > 0)
      .sort(compareCodePoints);
    if (options.reverse) keys.reverse();
    const out: StoredItem[] = [];
    if (options.limit !== undefined && options.limit <= 0) return out;
    for (const key of keys) {
      const item = this.live(key);
      if (item !== undefined) out.push(item);
      if (options.limit !== undefined && out.length >= options.limit) break;
    }
    return out;
  }

  async close(): Promise<void> {}
}

/**
 * Code point order, which is the UTF-8 byte order SQLite and DynamoDB sort keys by. The default
 * `sort()` compares UTF-16 code units and would put U+1F600 before U+FF21.
 */
function compareCodePoints(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}
