import { describe, expect, it } from 'vitest';
import { AuditLog, MAX_EVENTS_SEARCHED } from '../../lib/auth/audit-log.js';
import { MemoryBackend } from '../../lib/auth/storage/memory-backend.js';
import { ManualClock, systemClock } from '../../lib/core/clock.js';
import { StorageError } from '../../lib/core/errors.js';
import { createLogger, silentLogger } from '../../lib/core/logger.js';
import { secureRandom } from '../../lib/core/random.js';
import { CountingBackend } from '../support/counting-backend.js';
import { storedHeartbeatEvent } from '../support/stored-audit-event.js';

function loggedLines() {
  const lines: string[] = [];
  return { lines, logger: createLogger({ format: 'json', write: (line) => lines.push(line) }) };
}

describe('AuditLog', () => {
  it('stores an event, then logs it as an audit line', async () => {
    const { lines, logger } = loggedLines();
    const log = new AuditLog(new MemoryBackend(), systemClock, secureRandom, logger);

    await log.record({ type: 'bot.join', outcome: 'failure', actor: 'robot', code: 'token_invalid' });

    expect((await log.list()).map((event) => event.code)).toEqual(['token_invalid']);
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({ level: 'warn', message: 'audit bot.join failure', audit: true }),
    ]);
  });

  it('still logs the event, as not stored, when the storage fails (a request past its deadline, say)', async () => {
    const { lines, logger } = loggedLines();
    const storage = new MemoryBackend();
    storage.put = async () => {
      throw new StorageError('storage_timeout', 'DynamoDB had not answered dynamodb:PutItem in time');
    };
    const log = new AuditLog(storage, systemClock, secureRandom, logger);

    await expect(
      log.record({ type: 'bot.join', outcome: 'failure', actor: 'robot', code: 'token_invalid' }),
    ).rejects.toMatchObject({ code: 'storage_timeout' });

    expect(lines.map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({
        level: 'error',
        message: 'audit bot.join failure (not stored)',
        audit: true,
        stored: false,
        code: 'token_invalid',
        store_error: 'DynamoDB had not answered dynamodb:PutItem in time',
      }),
    ]);
  });

  describe('listing, newest first', () => {
    /** A log on a manual clock: one event a millisecond, so that times tell the events apart. */
    function clockedLog() {
      const clock = new ManualClock(Date.parse('2026-11-22T10:00:00Z'));
      const storage = new CountingBackend(new MemoryBackend(clock));
      const log = new AuditLog(storage, clock, secureRandom, silentLogger);
      const record = async (bot: string, count = 1) => {
        for (let i = 0; i < count; i += 1) {
          await log.record({ type: 'bot.heartbeat', outcome: 'success', bot });
          clock.advance(1);
        }
      };
      return { clock, storage, log, record };
    }

    it('reads no more than the limit when nothing is filtered, and a filtered listing stops at its limit', async () => {
      const { storage, log, record } = clockedLog();
      await record('quiet', 3);
      await record('busy', 1_500);
      await record('quiet', 2);

      storage.reset();
      expect(await log.search({ limit: 10 })).toMatchObject({ complete: true, searched: 10 });
      expect((await log.list({ bot: 'quiet', limit: 2 })).map((event) => event.bot)).toEqual([
        'quiet',
        'quiet',
      ]);
      // The two newest events are quiet's: one page was enough.
      expect(storage.calls().filter((call) => call.operation === 'list')).toHaveLength(2);

      const all = await log.search({ bot: 'quiet' });
      expect(all.events).toHaveLength(5);
      expect(all).toMatchObject({ complete: true, searched: 1_505 });
    });

    it(`stops a filtered search after ${MAX_EVENTS_SEARCHED} events and says how far back it read`, async () => {
      const { storage, log, record, clock } = clockedLog();
      await record('rare');
      // Straight into storage, as a busy cluster's older events are: recording each would take long.
      for (let i = 0; i < MAX_EVENTS_SEARCHED; i += 1) {
        await storage.inner.put(storedHeartbeatEvent(clock.now(), 'busy'));
        clock.advance(1);
      }
      await record('rare');

      const search = await log.search({ bot: 'rare' });
      expect(search.events).toHaveLength(1);
      expect(search).toMatchObject({ complete: false, searched: MAX_EVENTS_SEARCHED });
      // The newest rare event, then 19,999 busy ones: the oldest busy one was not read.
      expect(search.searchedBackTo).toBe(new Date(Date.parse('2026-11-22T10:00:00Z') + 2).toISOString());
      const busy = await log.search({ bot: 'busy', limit: 5 });
      expect(busy).toMatchObject({ complete: true });
    });
  });
});
