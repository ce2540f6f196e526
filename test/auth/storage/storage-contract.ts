import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { StorageBackend, StoredItem } from '../../../lib/auth/storage/storage-backend.js';
import { ManualClock } from '../../../lib/core/clock.js';

export interface BackendUnderTest {
  backend: StorageBackend;
  cleanup(): Promise<void>;
}

const T0 = Date.UTC(2030, 0, 1);
const PARALLEL = 50;

/**
 * The guarantees every `StorageBackend` must give, run against each implementation so the auth service
 * can rely on them whichever store it is given. `makeBackend` returns an empty store that reads time from
 * `clock`; `cleanup` closes it and removes whatever it created.
 */
export function describeStorageContract(
  name: string,
  makeBackend: (clock: ManualClock) => Promise<BackendUnderTest>,
): void {
  describe(`${name} (storage contract)`, () => {
    let clock: ManualClock;
    let store: StorageBackend;
    let cleanup: () => Promise<void>;

    beforeEach(async () => {
      clock = new ManualClock(T0);
      const made = await makeBackend(clock);
      store = made.backend;
      cleanup = () => made.cleanup();
    });

    afterEach(async () => {
      await cleanup();
    });

    const keysOf = (items: StoredItem[]) => items.map((item) => item.key);

    describe('get and put', () => {
      it('reads back what was put, with its revision and expiry', async () => {
        const value = JSON.stringify({ name: 'robot', note: 'ünïcødé ✓ 😀', blob: 'x'.repeat(100_000) });
        const written = await store.put({ key: 'bots/robot', value, expiresAt: T0 + 60_000 });

        expect(written).toEqual({
          key: 'bots/robot',
          value,
          revision: expect.any(String),
          expiresAt: T0 + 60_000,
        });
        expect(await store.get('bots/robot')).toEqual(written);
      });

      it('stores an item without expiry as one that never expires', async () => {
        const written = await store.put({ key: 'bots/robot', value: '{}' });

        expect(written.expiresAt).toBeUndefined();
        clock.advance(100 * 365 * 24 * 3600_000);
        const read = await store.get('bots/robot');
        expect(read).toEqual(written);
        expect(read).not.toHaveProperty('expiresAt');
      });

      it('answers undefined for a key that was never written', async () => {
        expect(await store.get('bots/nobody')).toBeUndefined();
      });

      it('overwrites an existing item unconditionally', async () => {
        await store.put({ key: 'bots/robot', value: '{"v":1}', expiresAt: T0 + 1000 });
        const second = await store.put({ key: 'bots/robot', value: '{"v":2}' });

        expect(await store.get('bots/robot')).toEqual(second);
        clock.advance(2000);
        expect(await store.get('bots/robot')).toEqual(second);
      });
    });

    describe('create', () => {
      it('writes a new key and returns the stored item', async () => {
        const created = await store.create({ key: 'tokens/a', value: '{"v":1}', expiresAt: T0 + 1000 });

        expect(created).toEqual({
          key: 'tokens/a',
          value: '{"v":1}',
          revision: expect.any(String),
          expiresAt: T0 + 1000,
        });
        expect(await store.get('tokens/a')).toEqual(created);
      });

      it('refuses a key that holds a live item and leaves that item alone', async () => {
        const first = await store.create({ key: 'tokens/a', value: '{"v":1}', expiresAt: T0 + 1000 });

        expect(await store.create({ key: 'tokens/a', value: '{"v":2}' })).toBeUndefined();
        expect(await store.get('tokens/a')).toEqual(first);
      });

      it('succeeds over an item that has expired', async () => {
        await store.put({ key: 'tokens/a', value: '{"v":1}', expiresAt: T0 + 1000 });
        clock.set(T0 + 1000);

        const created = await store.create({ key: 'tokens/a', value: '{"v":2}' });
        expect(created?.value).toBe('{"v":2}');
        clock.advance(10_000);
        expect(await store.get('tokens/a')).toEqual(created);
      });
    });

    describe('compareAndSwap', () => {
      it('replaces the item when given its current revision', async () => {
        const first = await store.put({ key: 'bots/robot', value: '{"generation":1}' });

        const second = await store.compareAndSwap(
          { key: 'bots/robot', value: '{"generation":2}', expiresAt: T0 + 5000 },
          first.revision,
        );

        expect(second).toEqual({
          key: 'bots/robot',
          value: '{"generation":2}',
          revision: expect.any(String),
          expiresAt: T0 + 5000,
        });
        expect(await store.get('bots/robot')).toEqual(second);
      });

      it('can drop the expiry of the item it replaces', async () => {
        const first = await store.put({ key: 'bots/robot', value: '{}', expiresAt: T0 + 1000 });
        const second = await store.compareAndSwap({ key: 'bots/robot', value: '{}' }, first.revision);

        clock.advance(5000);
        expect(await store.get('bots/robot')).toEqual(second);
      });

      it('refuses a stale revision and keeps the newer item', async () => {
        const first = await store.put({ key: 'bots/robot', value: '{"generation":1}' });
        const second = await store.put({ key: 'bots/robot', value: '{"generation":2}' });

        expect(
          await store.compareAndSwap({ key: 'bots/robot', value: '{"generation":3}' }, first.revision),
        ).toBeUndefined();
        expect(await store.get('bots/robot')).toEqual(second);
      });

      it('refuses a missing item and does not create it', async () => {
        expect(
          await store.compareAndSwap({ key: 'bots/ghost', value: '{}' }, 'any-revision'),
        ).toBeUndefined();
        expect(await store.get('bots/ghost')).toBeUndefined();
      });

      it('refuses an expired item even with its revision, and does not revive it', async () => {
        const first = await store.put({ key: 'bots/robot', value: '{}', expiresAt: T0 + 1000 });
        clock.set(T0 + 1000);

        expect(
          await store.compareAndSwap({ key: 'bots/robot', value: '{}' }, first.revision),
        ).toBeUndefined();
        expect(await store.get('bots/robot')).toBeUndefined();
      });
    });

    describe('delete', () => {
      it('removes an item once when no revision is given', async () => {
        await store.put({ key: 'tokens/a', value: '{}' });

        expect(await store.delete('tokens/a')).toBe(true);
        expect(await store.get('tokens/a')).toBeUndefined();
        expect(await store.delete('tokens/a')).toBe(false);
      });

      it('answers false for a key that was never written', async () => {
        expect(await store.delete('tokens/never')).toBe(false);
      });

      it('removes the item when given its current revision', async () => {
        const item = await store.put({ key: 'tokens/a', value: '{}' });

        expect(await store.delete('tokens/a', item.revision)).toBe(true);
        expect(await store.get('tokens/a')).toBeUndefined();
      });

      it('refuses a stale revision and keeps the item', async () => {
        const first = await store.put({ key: 'tokens/a', value: '{"v":1}' });
        const second = await store.put({ key: 'tokens/a', value: '{"v":2}' });

        expect(await store.delete('tokens/a', first.revision)).toBe(false);
        expect(await store.get('tokens/a')).toEqual(second);
      });
    });

    describe('expiry', () => {
      it('keeps an item visible until just before expiresAt and hides it at exactly expiresAt', async () => {
        const item = await store.put({ key: 'tokens/a', value: '{}', expiresAt: T0 + 1000 });

        clock.set(T0 + 999);
        expect(await store.get('tokens/a')).toEqual(item);
        expect(keysOf(await store.list('tokens/'))).toEqual(['tokens/a']);

        clock.set(T0 + 1000);
        expect(await store.get('tokens/a')).toBeUndefined();
        expect(await store.list('tokens/')).toEqual([]);
      });

      it('does not let delete or compareAndSwap reach an expired item', async () => {
        const item = await store.put({ key: 'tokens/a', value: '{}', expiresAt: T0 + 1000 });
        clock.set(T0 + 1000);

        expect(await store.delete('tokens/a')).toBe(false);
        expect(await store.delete('tokens/a', item.revision)).toBe(false);
        expect(await store.compareAndSwap({ key: 'tokens/a', value: '{}' }, item.revision)).toBeUndefined();
      });

      it('treats an item written already expired as absent', async () => {
        await store.put({ key: 'tokens/a', value: '{}', expiresAt: T0 });

        expect(await store.get('tokens/a')).toBeUndefined();
        expect(await store.create({ key: 'tokens/a', value: '{}' })).toBeDefined();
      });
    });

    describe('list', () => {
      async function putAll(keys: string[]): Promise<void> {
        for (const key of keys) await store.put({ key, value: JSON.stringify({ key }) });
      }

      it('returns the items under a prefix in key order, and nothing from neighbouring collections', async () => {
        await putAll(['instances/robot/3', 'instances/robot/1', 'instances/robotic/1', 'instances/robot/2']);
        await putAll(['instances/robot', 'instance/robot/1', 'instancesx/robot/1', 'bots/robot']);

        const items = await store.list('instances/robot/');
        expect(keysOf(items)).toEqual(['instances/robot/1', 'instances/robot/2', 'instances/robot/3']);
        expect(items[0]).toEqual(await store.get('instances/robot/1'));
      });

      it('returns descending order when reversed', async () => {
        await putAll([
          'audit/2030-01-01T00:00:01Z',
          'audit/2030-01-01T00:00:03Z',
          'audit/2030-01-01T00:00:02Z',
        ]);

        expect(keysOf(await store.list('audit/', { reverse: true }))).toEqual([
          'audit/2030-01-01T00:00:03Z',
          'audit/2030-01-01T00:00:02Z',
          'audit/2030-01-01T00:00:01Z',
        ]);
      });

      it('stops at the limit, counting from the requested end', async () => {
        await putAll(['audit/1', 'audit/2', 'audit/3', 'audit/4']);

        expect(keysOf(await store.list('audit/', { limit: 2 }))).toEqual(['audit/1', 'audit/2']);
        expect(keysOf(await store.list('audit/', { limit: 2, reverse: true }))).toEqual([
          'audit/4',
          'audit/3',
        ]);
        expect(keysOf(await store.list('audit/', { limit: 10 }))).toHaveLength(4);
        expect(await store.list('audit/', { limit: 0 })).toEqual([]);
      });

      it('reads on after a key, in either order, also when that key is gone', async () => {
        await putAll(['audit/1', 'audit/2', 'audit/3', 'audit/4', 'audit/5', 'auditx/1']);

        const first = await store.list('audit/', { reverse: true, limit: 2 });
        expect(keysOf(first)).toEqual(['audit/5', 'audit/4']);
        const next = await store.list('audit/', { reverse: true, limit: 2, after: 'audit/4' });
        expect(keysOf(next)).toEqual(['audit/3', 'audit/2']);
        await store.delete('audit/2');
        expect(keysOf(await store.list('audit/', { reverse: true, after: 'audit/2' }))).toEqual(['audit/1']);
        expect(keysOf(await store.list('audit/', { after: 'audit/2' }))).toEqual([
          'audit/3',
          'audit/4',
          'audit/5',
        ]);
        expect(keysOf(await store.list('audit/', { after: 'audit/5' }))).toEqual([]);
        expect(keysOf(await store.list('audit/', { reverse: true, after: 'audit/1' }))).toEqual([]);
        // Between two keys: the listing goes on from where that key would be.
        expect(keysOf(await store.list('audit/', { limit: 1, after: 'audit/25' }))).toEqual(['audit/3']);
      });

      it('refuses to read on after a key outside the prefix', async () => {
        await expect(store.list('audit/', { after: 'auditx/1' })).rejects.toMatchObject({
          code: 'storage_invalid_key',
        });
      });

      it('counts only live items towards the limit', async () => {
        await store.put({ key: 'audit/1', value: '{}', expiresAt: T0 + 10 });
        await store.put({ key: 'audit/2', value: '{}', expiresAt: T0 + 10 });
        await putAll(['audit/3', 'audit/4', 'audit/5']);
        clock.advance(10);

        expect(keysOf(await store.list('audit/', { limit: 2 }))).toEqual(['audit/3', 'audit/4']);
      });

      it('matches % and _ in the prefix literally', async () => {
        await putAll(['odd/100%/a', 'odd/100x/a', 'odd/1000/a', 'odd/a_b/1', 'odd/aXb/1', 'odd/a%b/1']);

        expect(keysOf(await store.list('odd/100%/'))).toEqual(['odd/100%/a']);
        expect(keysOf(await store.list('odd/a_b/'))).toEqual(['odd/a_b/1']);
        expect(keysOf(await store.list('odd/a%'))).toEqual(['odd/a%b/1']);
      });

      it('matches the prefix case-sensitively', async () => {
        await putAll(['bots/Robot', 'bots/robot', 'bots/ROBOT']);

        expect(keysOf(await store.list('bots/r'))).toEqual(['bots/robot']);
      });

      it('handles unicode keys, ordered by code point as SQLite and DynamoDB order UTF-8', async () => {
        const ordered = ['u/z', 'u/é', 'u/日本/1', 'u/日本/2', 'u/日本語', 'u/Ａ', 'u/😀', 'u/😀/1'];
        await putAll([...ordered].reverse());

        expect(keysOf(await store.list('u/'))).toEqual(ordered);
        expect(keysOf(await store.list('u/日本/'))).toEqual(['u/日本/1', 'u/日本/2']);
        expect(keysOf(await store.list('u/😀'))).toEqual(['u/😀', 'u/😀/1']);
        expect(await store.get('u/日本語')).toMatchObject({ value: JSON.stringify({ key: 'u/日本語' }) });
      });
    });

    it('gives the item a new revision on every write', async () => {
      const revisions: string[] = [];
      const first = await store.put({ key: 'bots/robot', value: '{}', expiresAt: T0 + 1000 });
      revisions.push(first.revision);
      const same = await store.put({ key: 'bots/robot', value: '{}', expiresAt: T0 + 1000 });
      revisions.push(same.revision);
      const swapped = await store.compareAndSwap({ key: 'bots/robot', value: '{}' }, same.revision);
      revisions.push(swapped!.revision);
      clock.advance(1000);
      const expiring = await store.put({ key: 'bots/robot', value: '{}', expiresAt: T0 + 2000 });
      revisions.push(expiring.revision);
      clock.advance(1000);
      const recreated = await store.create({ key: 'bots/robot', value: '{}' });
      revisions.push(recreated!.revision);

      expect(new Set(revisions).size).toBe(revisions.length);
      expect((await store.get('bots/robot'))?.revision).toBe(recreated!.revision);
    });

    describe('concurrency', () => {
      it(`lets exactly one of ${PARALLEL} parallel deletes of one revision succeed`, async () => {
        const token = await store.put({ key: 'tokens/once', value: '{}', expiresAt: T0 + 60_000 });

        const results = await Promise.all(
          Array.from({ length: PARALLEL }, () => store.delete('tokens/once', token.revision)),
        );

        expect(results.filter(Boolean)).toHaveLength(1);
        expect(await store.get('tokens/once')).toBeUndefined();
      });

      it(`lets exactly one of ${PARALLEL} parallel creates of one key succeed`, async () => {
        const results = await Promise.all(
          Array.from({ length: PARALLEL }, (_, i) =>
            store.create({ key: 'challenges/c1', value: JSON.stringify({ writer: i }) }),
          ),
        );

        const winners = results.filter((item) => item !== undefined);
        expect(winners).toHaveLength(1);
        expect(await store.get('challenges/c1')).toEqual(winners[0]);
      });

      it(`lets exactly one of ${PARALLEL} parallel compareAndSwaps from one revision succeed`, async () => {
        const start = await store.put({ key: 'bots/robot', value: '{"generation":1}' });

        const results = await Promise.all(
          Array.from({ length: PARALLEL }, (_, i) =>
            store.compareAndSwap({ key: 'bots/robot', value: JSON.stringify({ writer: i }) }, start.revision),
          ),
        );

        const winners = results.filter((item) => item !== undefined);
        expect(winners).toHaveLength(1);
        expect(await store.get('bots/robot')).toEqual(winners[0]);
      });
    });
  });
}
