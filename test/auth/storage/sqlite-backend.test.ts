import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, chown, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SqliteBackend } from '../../../lib/auth/storage/sqlite-backend.js';
import { ManualClock } from '../../../lib/core/clock.js';
import { StorageError } from '../../../lib/core/errors.js';
import { describeStorageContract } from './storage-contract.js';

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const fixtures = fileURLToPath(new URL('./fixtures/', import.meta.url));
// Root ignores file modes, so permission tests run their writer as `nobody` when we are root.
const runningAsRoot = process.getuid?.() === 0;
const NOBODY = 65534;

describeStorageContract('SqliteBackend', async (clock) => {
  const dir = await mkdtemp(join(tmpdir(), 'mid-sqlite-contract-'));
  const backend = SqliteBackend.open(join(dir, 'state', 'auth.db'), { clock });
  return {
    backend,
    cleanup: async () => {
      await backend.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
});

describe('SqliteBackend', () => {
  let dir: string;
  let path: string;
  const opened: SqliteBackend[] = [];

  function open(options: Parameters<typeof SqliteBackend.open>[1] = {}): SqliteBackend {
    const storage = SqliteBackend.open(path, options);
    opened.push(storage);
    return storage;
  }

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'mid-sqlite-'));
    path = join(dir, 'auth.db');
  });

  afterEach(async () => {
    for (const storage of opened.splice(0)) await storage.close();
    await chmod(dir, 0o700);
    await rm(dir, { recursive: true, force: true });
  });

  it('creates a missing folder 0700 and the file 0600, and its WAL file is 0600 too', async () => {
    path = join(dir, 'var', 'mid', 'auth.db');
    const storage = open();
    await storage.put({ key: 'tokens/a', value: '{}' });

    expect((await stat(join(dir, 'var', 'mid'))).mode & 0o777).toBe(0o700);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect((await stat(`${path}-wal`)).mode & 0o777).toBe(0o600);
  });

  it('keeps items, revisions and expiry when the file is reopened', async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const first = open({ clock });
    const bot = await first.put({ key: 'bots/robot', value: '{"generation":7}' });
    const token = await first.put({ key: 'tokens/a', value: '{}', expiresAt: clock.now() + 1000 });
    await first.close();

    const second = open({ clock });
    expect(await second.list('bots/')).toEqual([bot]);
    expect(await second.get('tokens/a')).toEqual(token);
    expect(await second.delete('bots/robot', bot.revision)).toBe(true);
  });

  it('sees writes made through another connection to the same file', async () => {
    const one = open();
    const two = open();

    const item = await one.put({ key: 'tokens/a', value: '{}' });
    expect(await two.get('tokens/a')).toEqual(item);
    expect(await two.delete('tokens/a', item.revision)).toBe(true);
    expect(await one.get('tokens/a')).toBeUndefined();
  });

  it('physically removes expired rows as it writes, so the file does not grow with dead tokens', async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const storage = open({ clock, sweepEvery: 10 });
    for (let i = 0; i < 20; i++) {
      await storage.put({ key: `tokens/${i}`, value: '{}', expiresAt: clock.now() + 1000 });
    }
    clock.advance(1000);
    for (let i = 0; i < 10; i++) await storage.put({ key: `bots/${i}`, value: '{}' });

    expect(countRows(path)).toBe(10);
  });

  describe('across processes', () => {
    const WORKERS = 8;
    const ITEMS = 200;

    it.each(['delete', 'create', 'compareAndSwap'] as const)(
      `lets exactly one of ${WORKERS} processes win each %s of the same key`,
      async (operation) => {
        const storage = open();
        const items: { key: string; revision: string }[] = [];
        for (let i = 0; i < ITEMS; i++) {
          const key = `tokens/${String(i).padStart(4, '0')}`;
          if (operation === 'create') items.push({ key, revision: '' });
          else items.push({ key, revision: (await storage.put({ key, value: '{}' })).revision });
        }
        const itemsFile = join(dir, 'items.json');
        await writeFile(itemsFile, JSON.stringify(items));

        const wins = await race(WORKERS, [path, operation, itemsFile]);

        const winners = new Map<string, number[]>();
        wins.forEach((keys, worker) => {
          for (const key of keys) winners.set(key, [...(winners.get(key) ?? []), worker]);
        });
        expect([...winners.keys()].sort()).toEqual(items.map((item) => item.key));
        expect([...winners.values()].filter((workers) => workers.length !== 1)).toEqual([]);
        for (const [key, [worker]] of winners) {
          const stored = await storage.get(key);
          expect(stored?.value).toBe(
            operation === 'delete' ? undefined : JSON.stringify({ worker: String(worker) }),
          );
        }
      },
    );
  });

  describe('errors', () => {
    it('refuses writes through a read-only connection with storage_read_only, and still reads', async () => {
      const item = await open().put({ key: 'bots/robot', value: '{}' });
      const reader = open({ readonly: true });

      expect(await reader.get('bots/robot')).toEqual(item);
      const error = await reader.put({ key: 'bots/robot', value: '{}' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(StorageError);
      expect(error).toMatchObject({
        code: 'storage_read_only',
        message: expect.stringContaining(path),
        cause: expect.objectContaining({ code: 'SQLITE_READONLY' }),
      });
    });

    it('reports storage_read_only for a file its user may not write', async () => {
      await seed(path);
      await chmod(path, 0o400);
      if (runningAsRoot) await handTo(NOBODY, dir, path);

      const outcome = await probeWrite(path);

      expect(outcome).toMatchObject({ ok: false, name: 'StorageError', code: 'storage_read_only' });
      expect(outcome.message).toContain(path);
    });

    it('reports storage_read_only for a folder its user may not write', async () => {
      await seed(path);
      if (runningAsRoot) await handTo(NOBODY, path);
      await chmod(dir, 0o555);

      const outcome = await probeWrite(path);

      expect(outcome).toMatchObject({ ok: false, name: 'StorageError', code: 'storage_read_only' });
      expect(outcome.message).toContain(dir);
    });

    it('reports storage_read_only when the folder cannot be created', async () => {
      if (runningAsRoot) await handTo(NOBODY, dir);
      await chmod(dir, 0o555);

      const outcome = await probeWrite(join(dir, 'state', 'auth.db'));

      expect(outcome).toMatchObject({ ok: false, name: 'StorageError', code: 'storage_read_only' });
    });

    it('reports storage_locked once another connection has held the write lock for the busy timeout', async () => {
      const storage = open({ busyTimeoutMs: 50 });
      const item = await storage.put({ key: 'bots/robot', value: '{}' });
      const other = new Database(path);
      other.exec('BEGIN EXCLUSIVE');
      try {
        const error = await storage.put({ key: 'bots/robot', value: '{}' }).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(StorageError);
        expect(error).toMatchObject({
          code: 'storage_locked',
          message: expect.stringContaining(path),
          cause: expect.objectContaining({ code: 'SQLITE_BUSY' }),
        });
        expect(catchSync(() => open({ busyTimeoutMs: 50 }))).toMatchObject({ code: 'storage_locked' });
        // WAL lets readers carry on while a writer holds the lock.
        expect(await storage.get('bots/robot')).toEqual(item);
      } finally {
        other.exec('ROLLBACK');
        other.close();
      }
      expect(await storage.delete('bots/robot', item.revision)).toBe(true);
    });

    it('reports storage_corrupt for a file that is not a database', async () => {
      await writeFile(path, 'these are not the bytes you are looking for\n'.repeat(200));

      const error = catchSync(() => open());

      expect(error).toBeInstanceOf(StorageError);
      expect(error).toMatchObject({
        code: 'storage_corrupt',
        message: expect.stringContaining(path),
        cause: expect.objectContaining({ code: 'SQLITE_NOTADB' }),
      });
    });

    it('reports storage_corrupt for a database whose pages were damaged', async () => {
      const storage = SqliteBackend.open(path);
      for (let i = 0; i < 500; i++) {
        await storage.put({
          key: `bots/${String(i).padStart(4, '0')}`,
          value: JSON.stringify({ pad: 'x'.repeat(200) }),
        });
      }
      await storage.close();
      const bytes = await readFile(path);
      bytes.fill(0xa5, 4096 * 3, 4096 * 7);
      await writeFile(path, bytes);

      const error = await Promise.resolve()
        .then(() => open().list('bots/'))
        .catch((e: unknown) => e);

      expect(error).toBeInstanceOf(StorageError);
      expect(error).toMatchObject({ code: 'storage_corrupt', message: expect.stringContaining(path) });
    });

    it('refuses a file written by a newer schema instead of guessing', async () => {
      await open().close();
      const raw = new Database(path);
      raw.pragma('user_version = 2');
      raw.close();

      expect(catchSync(() => open())).toMatchObject({
        name: 'StorageError',
        code: 'storage_unavailable',
        message: expect.stringContaining('schema version 2'),
      });
    });

    it('reports storage_unavailable when used after close', async () => {
      const storage = open();
      await storage.close();

      await expect(storage.get('bots/robot')).rejects.toMatchObject({
        name: 'StorageError',
        code: 'storage_unavailable',
      });
    });
  });
});

async function seed(file: string): Promise<void> {
  const storage = SqliteBackend.open(file);
  await storage.put({ key: 'bots/robot', value: '{}' });
  await storage.close();
}

function countRows(file: string): number {
  const raw = new Database(file, { readonly: true });
  try {
    return (raw.prepare('SELECT count(*) AS n FROM items').get() as { n: number }).n;
  } finally {
    raw.close();
  }
}

function catchSync(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected the action to throw');
}

async function handTo(uid: number, ...paths: string[]): Promise<void> {
  for (const target of paths) await chown(target, uid, uid);
}

interface Fixture {
  child: ChildProcessWithoutNullStreams;
  /** The next line the fixture prints; fails with its stderr if it exits first. */
  nextLine(): Promise<string>;
}

function startFixture(script: string, args: string[]): Fixture {
  const child = spawn(process.execPath, ['--import', 'tsx', join(fixtures, script), ...args], {
    cwd: repoRoot,
    ...(runningAsRoot && script === 'write-probe.ts' ? { uid: NOBODY, gid: NOBODY } : {}),
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
  return {
    child,
    async nextLine() {
      const next = await lines.next();
      if (next.done) {
        if (child.exitCode === null) await once(child, 'exit');
        throw new Error(`${script} exited with ${child.exitCode} before answering: ${stderr}`);
      }
      return next.value;
    },
  };
}

async function probeWrite(
  file: string,
): Promise<{ ok: boolean; name?: string; code?: string; message: string }> {
  return JSON.parse(await startFixture('write-probe.ts', [file]).nextLine());
}

/** Starts the workers, waits until every one has opened the file, then releases them together. */
async function race(workers: number, args: string[]): Promise<string[][]> {
  const children = Array.from({ length: workers }, (_, worker) =>
    startFixture('race-worker.ts', [...args, String(worker)]),
  );
  for (const fixture of children) expect(await fixture.nextLine()).toBe('ready');
  for (const { child } of children) child.stdin.write('go\n');
  return Promise.all(children.map(async (fixture) => JSON.parse(await fixture.nextLine())));
}
