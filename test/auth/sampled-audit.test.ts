import { afterEach, describe, expect, it, vi } from 'vitest';
import { AuditLog } from '../../lib/auth/audit-log.js';
import { SampledAudit } from '../../lib/auth/sampled-audit.js';
import { MemoryBackend } from '../../lib/auth/storage/memory-backend.js';
import { systemClock } from '../../lib/core/clock.js';
import { silentLogger } from '../../lib/core/logger.js';
import { secureRandom } from '../../lib/core/random.js';

function sampled() {
  const audit = new AuditLog(new MemoryBackend(systemClock), systemClock, secureRandom, silentLogger);
  return { audit, sampled: new SampledAudit({ clock: systemClock, audit }) };
}

const refusal = (request: number) =>
  ({
    type: 'bot.authenticate',
    outcome: 'failure',
    code: 'bot_auth_missing',
    message: 'no bot signature',
    request_id: `r${request}`,
  }) as const;

describe('SampledAudit', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('writes one record a second per key, and a closing record with the count when a burst stops', async () => {
    vi.useFakeTimers();
    const { audit, sampled: sample } = sampled();
    for (let i = 0; i < 50; i += 1) await sample.record('flood', refusal(i));
    expect((await audit.list()).map((event) => event.request_id)).toEqual(['r0']);

    await vi.advanceTimersByTimeAsync(1_000);
    const [closing, first] = await audit.list();
    expect(first?.request_id).toBe('r0');
    // The latest of the 49 left unrecorded, with the other 48: all 50 are counted.
    expect(closing).toMatchObject({
      request_id: 'r49',
      message: 'no bot signature (48 more refused since the previous record)',
      more_refused: 48,
    });

    // Nothing left to count: no record more, and the next refusal is recorded at once, alone.
    await vi.advanceTimersByTimeAsync(5_000);
    expect(await audit.list()).toHaveLength(2);
    await sample.record('flood', refusal(50));
    expect((await audit.list())[0]).toMatchObject({ request_id: 'r50', message: 'no bot signature' });
    expect((await audit.list())[0]).not.toHaveProperty('more_refused');
  });

  it('counts a burst once, whether a later refusal or the closing record reports it', async () => {
    vi.useFakeTimers();
    const { audit, sampled: sample } = sampled();
    for (let i = 0; i < 10; i += 1) await sample.record('flood', refusal(i));
    await vi.advanceTimersByTimeAsync(999);
    await sample.record('other', refusal(100));
    await vi.advanceTimersByTimeAsync(1);
    await sample.record('flood', refusal(10));
    await vi.advanceTimersByTimeAsync(2_000);
    const counted = (await audit.list())
      .filter((event) => event.request_id !== 'r100')
      .map((event) => 1 + Number(/\((\d+) more/.exec(event.message ?? '')?.[1] ?? 0));
    expect(counted.reduce((a, b) => a + b, 0)).toBe(11);
  });
});
