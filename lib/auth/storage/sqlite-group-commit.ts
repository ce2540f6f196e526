import type Database from 'better-sqlite3';

/**
 * The writes of one turn of the event loop, committed as one SQLite transaction.
 *
 * Each statement outside a transaction is a transaction of its own, and committing one costs far more
 * than the write (measured with WAL and synchronous=NORMAL: ~47 µs a write alone, ~10 µs each when 32
 * share a commit; with FULL, each commit also waits for an fsync). A join writes several items, and concurrent joins write side by side: opening one
 * immediate transaction at the first write of a turn and committing it once the turn's callbacks have
 * run (`setImmediate`) gives them one commit.
 *
 * What callers see does not change: a write's promise settles only after its commit, and fails if the
 * commit fails (none of that turn's writes then happened); a read made while a commit is pending waits
 * for it too, so that nothing uncommitted is reported. Conditional writes stay single statements under
 * the write lock, which the transaction holds from its start, so their checks cannot be split by
 * another connection.
 */
export class SqliteGroupCommit {
  private pending: PendingCommit | undefined;
  private readonly begin: Database.Statement;
  private readonly commit: Database.Statement;
  private readonly rollback: Database.Statement;

  constructor(private readonly db: Database.Database) {
    this.begin = db.prepare('BEGIN IMMEDIATE');
    this.commit = db.prepare('COMMIT');
    this.rollback = db.prepare('ROLLBACK');
  }

  /**
   * Runs `write` inside the turn's transaction (opening it if needed) and resolves with its result
   * once the transaction has committed. A `write` that throws rejects alone, unless its failure ended
   * the transaction: then every write of the turn rejects with it.
   */
  write<T>(write: () => T): Promise<T> {
    // A transaction that ended under a pending commit (see below) must not take this write along into
    // autocommit while its own writes are reported lost.
    if (this.pending !== undefined && !this.db.inTransaction) this.fail(this.pending, transactionEnded());
    const commit = this.pending ?? this.open();
    let value: T;
    try {
      value = write();
    } catch (error) {
      // SQLite undoes a failed statement alone, except after errors such as a full disk or an I/O
      // error, where it rolls the whole transaction back: then this turn's earlier writes are gone.
      if (!this.db.inTransaction) this.fail(commit, error);
      return Promise.reject(error);
    }
    if (!this.db.inTransaction) {
      // Ended by a statement whose error was caught on the way (an opportunistic cleanup, say).
      const ended = transactionEnded();
      this.fail(commit, ended);
      return Promise.reject(ended);
    }
    return commit.done.then(() => value);
  }

  /** Runs `read` at once; its result is given out only after a pending commit (see the class). */
  read<T>(read: () => T): Promise<T> {
    let value: T;
    try {
      value = read();
    } catch (error) {
      if (this.pending !== undefined && !this.db.inTransaction) this.fail(this.pending, error);
      return Promise.reject(error);
    }
    return this.pending === undefined ? Promise.resolve(value) : this.pending.done.then(() => value);
  }

  /** Commits what is pending now (before the database is closed). */
  flush(): void {
    if (this.pending !== undefined) this.settle(this.pending);
  }

  private open(): PendingCommit {
    this.begin.run();
    let resolve!: () => void;
    let reject!: (error: unknown) => void;
    const done = new Promise<void>((yes, no) => {
      resolve = yes;
      reject = no;
    });
    // Callers handle the rejection through the promises `write` and `read` return.
    done.catch(() => {});
    const commit: PendingCommit = { done, resolve, reject };
    this.pending = commit;
    setImmediate(() => {
      if (this.pending === commit) this.settle(commit);
    });
    return commit;
  }

  private settle(commit: PendingCommit): void {
    this.pending = undefined;
    try {
      this.commit.run();
      commit.resolve();
    } catch (error) {
      this.fail(commit, error);
    }
  }

  private fail(commit: PendingCommit, error: unknown): void {
    if (this.pending === commit) this.pending = undefined;
    try {
      if (this.db.inTransaction) this.rollback.run();
    } catch {
      // The transaction is gone either way; the error that ended it is the one to report.
    }
    commit.reject(error);
  }
}

function transactionEnded(): Error {
  return new Error('the transaction of this write ended before its commit; none of its writes were made');
}

interface PendingCommit {
  readonly done: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}
