import { describe, expect, it } from 'vitest';
import { AuditLog } from '../../lib/auth/audit-log.js';
import { MemoryBackend } from '../../lib/auth/storage/memory-backend.js';
import { systemClock } from '../../lib/core/clock.js';
import { StorageError } from '../../lib/core/errors.js';
import { createLogger } from '../../lib/core/logger.js';
import { secureRandom } from '../../lib/core/random.js';

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
});
