import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { acquireStorageLock, STORAGE_LOCK_FILE } from '../../../lib/bot/agent/storage-lock.js';
import { StorageError } from '../../../lib/core/errors.js';

let folder: string;
let file: string;

beforeEach(() => {
  folder = mkdtempSync(join(tmpdir(), 'midbot-lock-'));
  file = join(folder, STORAGE_LOCK_FILE);
});

afterEach(() => {
  rmSync(folder, { recursive: true, force: true });
});

function refusal(action: () => unknown): StorageError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(StorageError);
    return error as StorageError;
  }
  throw new Error('expected the lock to be refused');
}

describe('acquireStorageLock', () => {
  it('writes its pid into the lock file and removes it on release, leaving nothing else', () => {
    const lock = acquireStorageLock(folder, { label: '--data-dir' });
    expect(lock.file).toBe(file);
    expect(readFileSync(file, 'utf8')).toBe(`${process.pid} ${hostname()}\n`);
    expect(lock.staleFrom).toBeUndefined();
    lock.release();
    lock.release();
    expect(readdirSync(folder)).toEqual([]);
  });

  it('refuses a second run while the first holds the folder, naming the flag, the folder and the pid', () => {
    const first = acquireStorageLock(folder, { label: '--data-dir', pid: 4242 });
    const running = (pid: number) => pid === 4242;
    const error = refusal(() => acquireStorageLock(folder, { label: '--data-dir', isRunning: running }));
    expect(error.code).toBe('storage_in_use');
    expect(error.message).toBe(
      `--data-dir ${folder} is in use by midbot pid 4242 (lock file ${file}): two runs on one storage renew the same identity, and the auth service then locks the bot instance for good. Let that run finish or stop it (kill -TERM 4242), or give this run its own --data-dir; if no midbot runs there, delete ${file}`,
    );
    // The refused run left the holder's lock alone.
    expect(readFileSync(file, 'utf8')).toBe(`4242 ${hostname()}\n`);
    first.release();
    expect(existsSync(file)).toBe(false);
  });

  it('refuses a second lock in the same process (two agents in one process)', () => {
    const first = acquireStorageLock(folder, { label: 'storage.path' });
    expect(refusal(() => acquireStorageLock(folder, { label: 'storage.path' })).message).toMatch(
      new RegExp(`^storage\\.path ${folder} is in use by midbot pid ${process.pid} `),
    );
    first.release();
    acquireStorageLock(folder, { label: 'storage.path' }).release();
  });

  it('takes over the lock of a midbot that no longer runs, and says whose it was', () => {
    writeFileSync(file, '999999\n');
    const lock = acquireStorageLock(folder, { label: '--data-dir', isRunning: () => false });
    expect(lock.staleFrom).toBe(999999);
    expect(readFileSync(file, 'utf8')).toBe(`${process.pid} ${hostname()}\n`);
    lock.release();
  });

  it('takes over a lock with its own pid that this process does not hold (a container restarted as pid 1)', () => {
    writeFileSync(file, `${process.pid}\n`);
    const lock = acquireStorageLock(folder, { label: '--data-dir' });
    expect(lock.staleFrom).toBe(process.pid);
    lock.release();
  });

  it('takes over a lock file that holds no pid (no midbot wrote it)', () => {
    writeFileSync(file, 'garbage');
    const lock = acquireStorageLock(folder, { label: '--data-dir', isRunning: () => true });
    expect(readFileSync(file, 'utf8')).toBe(`${process.pid} ${hostname()}\n`);
    lock.release();
  });

  it('refuses a lock from another host (two containers on one volume, both pid 1): its pid means nothing here', () => {
    writeFileSync(file, `1 other-container-7f3a\n`);
    const error = refusal(() =>
      acquireStorageLock(folder, { label: '--data-dir', pid: 1, isRunning: () => false }),
    );
    expect(error.code).toBe('storage_in_use');
    expect(error.message).toContain('is in use by midbot pid 1 on host other-container-7f3a');
    expect(readFileSync(file, 'utf8')).toBe('1 other-container-7f3a\n');
  });

  it('does not remove a lock that another run took in the meantime', () => {
    const lock = acquireStorageLock(folder, { label: '--data-dir' });
    writeFileSync(file, '4242\n');
    lock.release();
    expect(readFileSync(file, 'utf8')).toBe('4242\n');
  });
});
