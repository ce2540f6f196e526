import type {
  ItemInput,
  ListOptions,
  StorageBackend,
  StoredItem,
} from '../../lib/auth/storage/storage-backend.js';

/** One storage call as the wrapped backend saw it. */
export interface StorageCall {
  /** `get`, `put`, `create`, `compareAndSwap`, `delete` or `list`. */
  readonly operation: string;
  /** The item's key, or the prefix of a `list`. */
  readonly key: string;
  /**
   * Its place in the longest chain of calls that each started only after the one before had answered:
   * 1 for a call that waited on no other call, 2 for one that started after a depth-1 call answered, …
   * Calls of one depth are a wave that could all be in flight at once.
   */
  readonly depth: number;
}

interface LoggedCall {
  readonly operation: string;
  readonly key: string;
  readonly depth: number;
  answered: boolean;
}

/**
 * Wraps a backend and records every call with the depth of the sequential chain it sits in: what a
 * request costs in DynamoDB round trips (calls) and in latency (the deepest wave).
 *
 * Each call waits one macrotask before it reaches the wrapped backend, as a network round trip would.
 * Without that, an in-memory backend answers within the microtasks of the caller, and two calls started
 * together by `Promise.all` could look sequential.
 */
export class CountingBackend implements StorageBackend {
  private log: LoggedCall[] = [];

  /** `inner` is the wrapped backend: read it directly for what should not be counted. */
  constructor(readonly inner: StorageBackend) {}

  /** The calls since the last `reset`, in the order they started. */
  calls(): StorageCall[] {
    return this.log.map(({ operation, key, depth }) => ({ operation, key, depth }));
  }

  /** The longest sequential chain since the last `reset`: how many round trips a caller waited for. */
  depth(): number {
    return Math.max(0, ...this.log.map((call) => call.depth));
  }

  /**
   * The calls grouped by depth, each as `operation key` with the key cut to its collection (plus the
   * name, for bots, roles and apps, and the bot, for instances), sorted within a wave: a readable,
   * stable picture of a request's I/O that holds no random id or secret token.
   */
  waves(): string[][] {
    return Array.from({ length: this.depth() }, (_, index) =>
      this.log
        .filter((call) => call.depth === index + 1)
        .map((call) => `${call.operation} ${collectionOf(call.key)}`)
        .sort(),
    );
  }

  reset(): void {
    if (this.log.some((call) => !call.answered)) {
      throw new Error('a storage call is still in flight; await the request before counting the next one');
    }
    this.log = [];
  }

  get(key: string): Promise<StoredItem | undefined> {
    return this.track('get', key, () => this.inner.get(key));
  }

  put(item: ItemInput): Promise<StoredItem> {
    return this.track('put', item.key, () => this.inner.put(item));
  }

  create(item: ItemInput): Promise<StoredItem | undefined> {
    return this.track('create', item.key, () => this.inner.create(item));
  }

  compareAndSwap(item: ItemInput, expectedRevision: string): Promise<StoredItem | undefined> {
    return this.track('compareAndSwap', item.key, () => this.inner.compareAndSwap(item, expectedRevision));
  }

  delete(key: string, expectedRevision?: string): Promise<boolean> {
    return this.track('delete', key, () => this.inner.delete(key, expectedRevision));
  }

  list(prefix: string, options?: ListOptions): Promise<StoredItem[]> {
    return this.track('list', prefix, () => this.inner.list(prefix, options));
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  private async track<T>(operation: string, key: string, call: () => Promise<T>): Promise<T> {
    const answered = this.log.filter((other) => other.answered);
    const entry: LoggedCall = {
      operation,
      key,
      depth: 1 + Math.max(0, ...answered.map((other) => other.depth)),
      answered: false,
    };
    this.log.push(entry);
    try {
      await new Promise<void>((resolve) => setImmediate(resolve));
      return await call();
    } finally {
      entry.answered = true;
    }
  }
}

/** `instances/robot/<uuid>` → `instances/robot`; `tokens/<secret>` → `tokens`; `bots/robot` → `bots/robot`. */
function collectionOf(key: string): string {
  const [collection, second] = key.split('/');
  if (
    collection === 'instances' ||
    collection === 'bots' ||
    collection === 'roles' ||
    collection === 'apps'
  ) {
    return `${collection}/${second}`;
  }
  return collection ?? key;
}
