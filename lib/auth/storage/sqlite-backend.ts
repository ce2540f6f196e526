import { accessSync, closeSync, constants, openSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { type Clock, systemClock } from '../../core/clock.js';
import { StorageError } from '../../core/errors.js';
import { makeFoldersSync } from '../../core/make-folders.js';
import { SqliteGroupCommit } from './sqlite-group-commit.js';
import { prepareStatements, type Row } from './sqlite-statements.js';
import {
  checkListAfter,
  type ItemInput,
  type ListOptions,
  type StorageBackend,
  type StoredItem,
  withNewRevision,
} from './storage-backend.js';

export interface SqliteBackendOptions {
  /** @default systemClock */
  readonly clock?: Clock;
  /**
   * How long a write waits for another connection's write lock before failing with `storage_locked`.
   * better-sqlite3 is synchronous, so the wait blocks the event loop: keep it short.
   * @default 5000
   */
  readonly busyTimeoutMs?: number;
  /**
   * Open an existing file without write access, for commands that only inspect the store. Every write
   * then fails with `storage_read_only`.
   * @default false
   */
  readonly readonly?: boolean;
  /**
   * Remove physically expired rows every this many successful writes (they are invisible as soon as they
   * expire; the sweep only reclaims space).
   * @default 100
   */
  readonly sweepEvery?: number;
}

const SCHEMA_VERSION = 1;
// Bounds one sweep so an opportunistic cleanup never turns a fast write into a long one.
const SWEEP_BATCH = 500;

/**
 * The embedded store of the auth service: one SQLite file that several processes (the server and
 * `midctl`) may open at once.
 *
 * Every conditional operation is a single SQL statement whose WHERE clause carries the condition, and its
 * outcome is read from the number of changed rows. SQLite runs each such statement under the file's write
 * lock and retries a stale snapshot itself, so the check and the write cannot be split by another
 * connection, in this process or another. The writes of one event-loop turn share one transaction and
 * one commit ({@link SqliteGroupCommit}); each operation settles only after that commit.
 *
 * @example
 * const storage = SqliteBackend.open('/var/lib/mid/auth.db');
 * const token = await storage.create({ key: 'tokens/abc', value: '{}', expiresAt: Date.now() + 60_000 });
 */
export class SqliteBackend implements StorageBackend {
  private readonly statements: ReturnType<typeof prepareStatements>;
  private readonly commits: SqliteGroupCommit;
  private writesSinceSweep = 0;

  private constructor(
    private readonly db: Database.Database,
    private readonly path: string,
    private readonly clock: Clock,
    private readonly busyTimeoutMs: number,
    private readonly sweepEvery: number,
  ) {
    this.statements = prepareStatements(db);
    this.commits = new SqliteGroupCommit(db);
  }

  /**
   * Opens (creating when missing) the database at `path`. A new folder is created 0700 and a new file
   * 0600, since the file holds join tokens. Fails with a `StorageError` when the file is locked,
   * read-only, corrupt or otherwise unusable.
   */
  static open(path: string, options: SqliteBackendOptions = {}): SqliteBackend {
    const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
    const readonly = options.readonly ?? false;
    let db: Database.Database | undefined;
    try {
      if (!readonly) createPrivateFile(path);
      db = new Database(path, { readonly, fileMustExist: readonly, timeout: busyTimeoutMs });
      if (readonly) {
        // A read-only connection cannot create the table, so an uninitialised file must not pass.
        if (db.pragma('user_version', { simple: true }) !== SCHEMA_VERSION) {
          throw new StorageError(
            'storage_unavailable',
            `The auth database ${path} has not been initialised. Start the auth service (or any midctl ` +
              'command that writes) once without read-only mode to create it.',
          );
        }
      } else {
        initialise(db, path, options.clock ?? systemClock);
      }
      return new SqliteBackend(
        db,
        path,
        options.clock ?? systemClock,
        busyTimeoutMs,
        options.sweepEvery ?? 100,
      );
    } catch (error) {
      db?.close();
      throw toStorageError(error, path, busyTimeoutMs);
    }
  }

  async get(key: string): Promise<StoredItem | undefined> {
    return this.read(() => {
      const row = this.statements.get.get({ key, now: this.clock.now() });
      return row === undefined ? undefined : toItem(row);
    });
  }

  async put(item: ItemInput): Promise<StoredItem> {
    return this.write(() => {
      const written = withNewRevision(item);
      this.statements.put.run(toRow(written));
      this.afterWrite();
      return written;
    });
  }

  async create(item: ItemInput): Promise<StoredItem | undefined> {
    return this.write(() => {
      const written = withNewRevision(item);
      const { changes } = this.statements.create.run({ ...toRow(written), now: this.clock.now() });
      if (changes === 0) return undefined;
      this.afterWrite();
      return written;
    });
  }

  async compareAndSwap(item: ItemInput, expectedRevision: string): Promise<StoredItem | undefined> {
    return this.write(() => {
      const written = withNewRevision(item);
      const { changes } = this.statements.compareAndSwap.run({
        ...toRow(written),
        expected: expectedRevision,
        now: this.clock.now(),
      });
      if (changes === 0) return undefined;
      this.afterWrite();
      return written;
    });
  }

  async delete(key: string, expectedRevision?: string): Promise<boolean> {
    return this.write(() => {
      const now = this.clock.now();
      const { changes } =
        expectedRevision === undefined
          ? this.statements.delete.run({ key, now })
          : this.statements.deleteRevision.run({ key, now, expected: expectedRevision });
      return changes === 1;
    });
  }

  async list(prefix: string, options: ListOptions = {}): Promise<StoredItem[]> {
    checkListAfter(prefix, options);
    return this.read(() => {
      const limit = options.limit === undefined ? -1 : Math.max(0, Math.floor(options.limit));
      // SQLite orders every BLOB after every TEXT, so a one-byte BLOB is an upper bound that excludes
      // nothing while keeping the condition a plain range the primary key index can serve.
      const upper = prefixUpperBound(prefix) ?? Buffer.of(0xff);
      const params = { prefix, upper, now: this.clock.now(), limit };
      const { after } = options;
      if (after === undefined) {
        const statement = options.reverse ? this.statements.listDescending : this.statements.listAscending;
        return statement.all(params).map(toItem);
      }
      const statement = options.reverse
        ? this.statements.listDescendingAfter
        : this.statements.listAscendingAfter;
      return statement.all({ ...params, after }).map(toItem);
    });
  }

  async close(): Promise<void> {
    if (this.db.open) this.commits.flush();
    this.db.close();
  }

  private read<T>(operation: () => T): Promise<T> {
    return this.settled(() => this.commits.read(operation));
  }

  private write<T>(operation: () => T): Promise<T> {
    return this.settled(() => this.commits.write(operation));
  }

  /** The operation's outcome, with SQLite's and better-sqlite3's errors turned into `StorageError`s. */
  private async settled<T>(operation: () => Promise<T>): Promise<T> {
    try {
      return await operation();
    } catch (error) {
      throw toStorageError(error, this.path, this.busyTimeoutMs);
    }
  }

  private afterWrite(): void {
    this.writesSinceSweep += 1;
    if (this.writesSinceSweep < this.sweepEvery) return;
    this.writesSinceSweep = 0;
    try {
      this.statements.sweep.run({ now: this.clock.now(), batch: SWEEP_BATCH });
    } catch {
      // SQLite undoes the failed sweep alone and the caller's write stands; the sweep is retried after
      // the next batch of writes, since expired rows are invisible anyway. (An error that ends the
      // whole transaction, such as a full disk, fails every write of the turn, this one included.)
    }
  }
}

function createPrivateFile(path: string): void {
  makeFoldersSync(dirname(path), 0o700);
  try {
    closeSync(openSync(path, constants.O_CREAT | constants.O_EXCL | constants.O_RDWR, 0o600));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

function initialise(db: Database.Database, path: string, clock: Clock): void {
  db.pragma('journal_mode = WAL');
  // WAL with synchronous=FULL: each commit is on disk before it is answered, so a power loss cannot
  // bring back a join token that was spent (or forget an instance a join created). The writes of one
  // event-loop turn share a commit (`SqliteGroupCommit`), which keeps the cost of that fsync low: token
  // joins run at ~0.9× the rate with NORMAL, which only survives a crash of the process (measured with
  // `npm run bench`).
  db.pragma('synchronous = FULL');
  // The immediate transaction takes the write lock up front: a read-only or locked file fails here, at
  // start-up, rather than on the first join, and two processes opening a new file create the table once.
  db.transaction(() => {
    const version = db.pragma('user_version', { simple: true });
    if (version === 0) {
      db.exec(`
        CREATE TABLE items (
          key TEXT PRIMARY KEY,
          value TEXT NOT NULL,
          revision TEXT NOT NULL,
          expires_at INTEGER
        );
        CREATE INDEX items_expires_at ON items (expires_at) WHERE expires_at IS NOT NULL;
        PRAGMA user_version = ${SCHEMA_VERSION};
      `);
    } else if (version !== SCHEMA_VERSION) {
      throw new StorageError(
        'storage_unavailable',
        `The auth database ${path} has schema version ${String(version)}, this build understands ` +
          `${SCHEMA_VERSION}. Run the midctl / auth service version that created it, or upgrade this one.`,
      );
    }
    db.prepare('DELETE FROM items WHERE expires_at <= ?').run(clock.now());
  }).immediate();
}

function toRow(item: StoredItem): Row {
  return { key: item.key, value: item.value, revision: item.revision, expires_at: item.expiresAt ?? null };
}

function toItem(row: Row): StoredItem {
  return {
    key: row.key,
    value: row.value,
    revision: row.revision,
    ...(row.expires_at === null ? {} : { expiresAt: row.expires_at }),
  };
}

/**
 * The smallest string above every string that starts with `prefix`, in code point order (which is how
 * SQLite compares UTF-8 text); undefined when no such string exists. A range scan on it matches the
 * prefix literally, unlike LIKE, which treats `%` and `_` as wildcards and ignores ASCII case. A fixed
 * `prefix + '\uffff'` bound would miss keys continuing with characters beyond U+FFFF.
 */
function prefixUpperBound(prefix: string): string | undefined {
  const points = Array.from(prefix, (char) => char.codePointAt(0)!);
  while (points.length > 0) {
    const last = points.pop()!;
    if (last < 0x10ffff) {
      // Surrogate code points cannot be encoded as UTF-8; the next encodable one is U+E000.
      return String.fromCodePoint(...points, last === 0xd7ff ? 0xe000 : last + 1);
    }
  }
  return undefined;
}

function toStorageError(error: unknown, path: string, busyTimeoutMs: number): StorageError {
  if (error instanceof StorageError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const detail = error instanceof Error ? error.message : String(error);
  const cause = { cause: error };
  if (typeof code === 'string') {
    if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
      return new StorageError(
        'storage_locked',
        `The auth database ${path} stayed locked by another connection for ${busyTimeoutMs} ms. ` +
          'Another midctl or auth server process is holding a write; retry, or stop that process.',
        cause,
      );
    }
    if (
      code.startsWith('SQLITE_READONLY') ||
      code === 'SQLITE_PERM' ||
      ['EACCES', 'EPERM', 'EROFS'].includes(code) ||
      (code.startsWith('SQLITE_CANTOPEN') && !canWrite(path))
    ) {
      return new StorageError(
        'storage_read_only',
        `The auth database ${path} cannot be written (${detail}). Make the file and its folder ` +
          `${dirname(path)} writable by the user running the auth service, or choose another path.`,
        cause,
      );
    }
    if (code.startsWith('SQLITE_CORRUPT') || code === 'SQLITE_NOTADB') {
      return new StorageError(
        'storage_corrupt',
        `The auth database ${path} is damaged or not an SQLite database (${detail}). Restore it from a ` +
          `backup, or move it aside (mv ${path} ${path}.broken) to start with an empty store, which ` +
          'forgets all bots, tokens and renewal state.',
        cause,
      );
    }
  }
  if (error instanceof TypeError && /not open/.test(detail)) {
    return new StorageError('storage_unavailable', `The auth database ${path} has been closed.`, cause);
  }
  return new StorageError('storage_unavailable', `Cannot use the auth database ${path}: ${detail}`, cause);
}

/** SQLite reports an unopenable WAL side file as CANTOPEN; tell a permission problem apart from others. */
function canWrite(path: string): boolean {
  for (const target of [path, dirname(path)]) {
    try {
      accessSync(target, constants.W_OK);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') return false;
    }
  }
  return true;
}
