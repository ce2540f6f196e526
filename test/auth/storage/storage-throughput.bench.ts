// Throughput of the join-token life cycle (create, then delete by revision) per backend. Run with
// `npx vitest bench --run test/auth/storage`; it prints figures and asserts nothing.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, bench, describe } from 'vitest';
import { MemoryBackend } from '../../../lib/auth/storage/memory-backend.js';
import { SqliteBackend } from '../../../lib/auth/storage/sqlite-backend.js';
import type { StorageBackend } from '../../../lib/auth/storage/storage-backend.js';

const dir = mkdtempSync(join(tmpdir(), 'mid-sqlite-bench-'));
const backends: [string, StorageBackend][] = [
  ['MemoryBackend', new MemoryBackend()],
  ['SqliteBackend', SqliteBackend.open(join(dir, 'auth.db'))],
];

describe('create + delete(revision) of one token', () => {
  let n = 0;
  for (const [name, storage] of backends) {
    bench(name, async () => {
      const key = `tokens/${n++}`;
      const token = await storage.create({ key, value: '{"bot":"robot"}', expiresAt: Date.now() + 60_000 });
      if (token === undefined || !(await storage.delete(key, token.revision)))
        throw new Error('lost a token');
    });
  }
});

afterAll(async () => {
  for (const [, storage] of backends) await storage.close();
  rmSync(dir, { recursive: true, force: true });
});
