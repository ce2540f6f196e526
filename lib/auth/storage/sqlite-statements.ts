import type Database from 'better-sqlite3';

/** A row of the one table, `items`: a stored item with its expiry as epoch ms (NULL: never). */
export interface Row {
  key: string;
  value: string;
  revision: string;
  expires_at: number | null;
}

/** The condition that keeps expired rows invisible to every statement, at `@now`. */
const LIVE = '(expires_at IS NULL OR expires_at > @now)';

/** The SQLite backend's statements, prepared once per open database. */
export function prepareStatements(db: Database.Database) {
  const columns = 'key, value, revision, expires_at';
  const list = (order: 'ASC' | 'DESC') =>
    db.prepare<[{ prefix: string; upper: string | Buffer; now: number; limit: number }], Row>(
      `SELECT ${columns} FROM items
       WHERE key >= @prefix AND key < @upper AND ${LIVE}
       ORDER BY key ${order} LIMIT @limit`,
    );
  // Reading on from a page's last key: one more bound on the same primary key range.
  const listAfter = (order: 'ASC' | 'DESC') =>
    db.prepare<[{ prefix: string; upper: string | Buffer; now: number; limit: number; after: string }], Row>(
      `SELECT ${columns} FROM items
       WHERE key >= @prefix AND key < @upper AND key ${order === 'ASC' ? '>' : '<'} @after AND ${LIVE}
       ORDER BY key ${order} LIMIT @limit`,
    );
  return {
    get: db.prepare<[{ key: string; now: number }], Row>(
      `SELECT ${columns} FROM items WHERE key = @key AND ${LIVE}`,
    ),
    put: db.prepare<[Row]>(
      `INSERT INTO items (${columns}) VALUES (@key, @value, @revision, @expires_at)
       ON CONFLICT (key) DO UPDATE
       SET value = excluded.value, revision = excluded.revision, expires_at = excluded.expires_at`,
    ),
    // The upsert only overwrites a row that has expired, so "absent or expired" is decided under the lock.
    create: db.prepare<[Row & { now: number }]>(
      `INSERT INTO items (${columns}) VALUES (@key, @value, @revision, @expires_at)
       ON CONFLICT (key) DO UPDATE
       SET value = excluded.value, revision = excluded.revision, expires_at = excluded.expires_at
       WHERE items.expires_at IS NOT NULL AND items.expires_at <= @now`,
    ),
    compareAndSwap: db.prepare<[Row & { expected: string; now: number }]>(
      `UPDATE items SET value = @value, revision = @revision, expires_at = @expires_at
       WHERE key = @key AND revision = @expected AND ${LIVE}`,
    ),
    delete: db.prepare<[{ key: string; now: number }]>(`DELETE FROM items WHERE key = @key AND ${LIVE}`),
    deleteRevision: db.prepare<[{ key: string; now: number; expected: string }]>(
      `DELETE FROM items WHERE key = @key AND revision = @expected AND ${LIVE}`,
    ),
    listAscending: list('ASC'),
    listDescending: list('DESC'),
    listAscendingAfter: listAfter('ASC'),
    listDescendingAfter: listAfter('DESC'),
    sweep: db.prepare<[{ now: number; batch: number }]>(
      `DELETE FROM items WHERE key IN
         (SELECT key FROM items WHERE expires_at <= @now ORDER BY expires_at LIMIT @batch)`,
    ),
  };
}

/** Creates the folder and file with private modes; an existing file keeps its mode and owner. */
