import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteBackend } from '../../../lib/auth/storage/sqlite-backend.js';
import { SqliteGroupCommit } from '../../../lib/auth/storage/sqlite-group-commit.js';

let dir: string;
let path: string;
const opened: Array<{ close(): unknown }> = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mid-group-commit-'));
  path = join(dir, 'auth.db');
});

afterEach(async () => {
  for (const handle of opened.splice(0).reverse()) await handle.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A second connection to the file, as another process (`midctl`) would have. */
function otherConnection(): Database.Database {
  const db = new Database(path, { readonly: true });
  opened.push(db);
  return db;
}

function keysSeenBy(db: Database.Database): string[] {
  return db
    .prepare<[], { key: string }>('SELECT key FROM items ORDER BY key')
    .all()
    .map((row) => row.key);
}

describe('SqliteBackend: the writes of one turn share a commit', () => {
  it('settles each write only once it is committed, where other connections see it', async () => {
    const storage = SqliteBackend.open(path);
    opened.push(storage);
    const other = otherConnection();
    const writes = [storage.put({ key: 'a', value: '1' }), storage.create({ key: 'b', value: '2' })];
    let settled = false;
    void Promise.all(writes).then(() => {
      settled = true;
    });
    await Promise.resolve();
    expect(settled).toBe(false);
    expect(keysSeenBy(other)).toEqual([]);
    await Promise.all(writes);
    expect(keysSeenBy(other)).toEqual(['a', 'b']);
  });

  it('reads its own turn’s writes, and hands them out only once they are committed', async () => {
    const storage = SqliteBackend.open(path);
    opened.push(storage);
    const write = storage.put({ key: 'a', value: '1' });
    const read = storage.get('a');
    expect(await read).toMatchObject({ key: 'a', value: '1' });
    await write;
  });

  it('commits what is pending when closed', async () => {
    const storage = SqliteBackend.open(path);
    const write = storage.put({ key: 'a', value: '1' });
    await storage.close();
    await write;
    expect(keysSeenBy(otherConnection())).toEqual(['a']);
  });
});

describe('SqliteGroupCommit', () => {
  function database(): Database.Database {
    const db = new Database(path);
    opened.push(db);
    db.pragma('journal_mode = WAL');
    db.exec('CREATE TABLE items (key TEXT PRIMARY KEY)');
    return db;
  }
  const insert = (db: Database.Database, key: string) => () =>
    db.prepare('INSERT INTO items (key) VALUES (?)').run(key).changes;

  it('rejects a write that fails alone and commits the others of its turn', async () => {
    const db = database();
    const commits = new SqliteGroupCommit(db);
    const results = await Promise.allSettled([
      commits.write(insert(db, 'a')),
      commits.write(insert(db, 'a')),
      commits.write(insert(db, 'b')),
    ]);
    expect(results.map((result) => result.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(String((results[1] as PromiseRejectedResult).reason)).toMatch(/UNIQUE constraint/);
    expect(keysSeenBy(db)).toEqual(['a', 'b']);
  });

  it('rejects every write of the turn, and keeps none, when the transaction ends before its commit', async () => {
    const db = database();
    const commits = new SqliteGroupCommit(db);
    const first = commits.write(insert(db, 'a'));
    // What SQLite does after a full disk or an I/O error: the whole transaction is rolled back.
    const second = commits.write(() => db.exec('ROLLBACK'));
    await expect(first).rejects.toThrow(/ended before its commit; none of its writes were made/);
    await expect(second).rejects.toThrow(/ended before its commit/);
    expect(keysSeenBy(db)).toEqual([]);
    expect(db.inTransaction).toBe(false);
  });

  it('never lets a write of the turn slip into autocommit after its transaction ended unnoticed', async () => {
    const db = database();
    const commits = new SqliteGroupCommit(db);
    const first = commits.write(insert(db, 'a'));
    db.exec('ROLLBACK'); // ended outside any write, as no code of ours does
    const read = commits.read(() => keysSeenBy(db));
    const after = commits.write(insert(db, 'b'));
    await expect(first).rejects.toThrow(/ended before its commit/);
    await expect(read).rejects.toThrow(/ended before its commit/);
    await expect(after).resolves.toBe(1);
    expect(keysSeenBy(db)).toEqual(['b']);
  });

  it('rejects a read that a failure beneath it cut off, with the writes of its turn', async () => {
    const db = database();
    const commits = new SqliteGroupCommit(db);
    const first = commits.write(insert(db, 'a'));
    const read = commits.read(() => {
      db.exec('ROLLBACK');
      throw new Error('disk I/O error');
    });
    await expect(read).rejects.toThrow('disk I/O error');
    await expect(first).rejects.toThrow('disk I/O error');
    expect(keysSeenBy(db)).toEqual([]);
  });

  it('fails the turn at once when a failing write ended the transaction, and starts a new one after it', async () => {
    const db = database();
    const commits = new SqliteGroupCommit(db);
    const first = commits.write(insert(db, 'a'));
    const failing = commits.write(() => {
      db.exec('ROLLBACK');
      throw new Error('disk I/O error');
    });
    const after = commits.write(insert(db, 'b'));
    await expect(failing).rejects.toThrow('disk I/O error');
    await expect(first).rejects.toThrow('disk I/O error');
    await expect(after).resolves.toBe(1);
    expect(keysSeenBy(db)).toEqual(['b']);
  });

  it('commits each turn once: a write of a later turn waits for nothing of the earlier one', async () => {
    const db = database();
    const commits = new SqliteGroupCommit(db);
    await commits.write(insert(db, 'a'));
    expect(db.inTransaction).toBe(false);
    const read = await commits.read(() => keysSeenBy(db));
    expect(read).toEqual(['a']);
    await commits.write(insert(db, 'b'));
    expect(keysSeenBy(db)).toEqual(['a', 'b']);
  });
});
