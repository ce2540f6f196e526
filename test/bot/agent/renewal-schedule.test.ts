import { describe, expect, it } from 'vitest';
import { RenewalSchedule } from '../../../lib/bot/agent/renewal-schedule.js';
import type { RunSummary } from '../../../lib/bot/agent/run-summary.js';

const START = Date.parse('2026-11-21T16:00:00Z');
const MINUTE = 60_000;
const TWENTY_MINUTES = 20 * MINUTE;

/** A run that wrote one output, the identity and the output both living `lifetimeMs` from `at`. */
function summary(at: number, lifetimeMs: number): RunSummary {
  const expiresAt = new Date(at + lifetimeMs).toISOString();
  return {
    identity: {
      botName: 'robot',
      instanceId: '00000000-0000-4000-8000-000000000000',
      generation: 1,
      serial: '01',
      expiresAt,
      obtained: 'renewed',
    },
    outputs: [
      {
        status: 'written',
        index: 0,
        type: 'identity',
        target: 'identity',
        destination: 'memory',
        serial: '02',
        expiresAt,
        files: ['tlscert'],
      },
    ],
    written: 1,
    failed: 0,
    heartbeat: true,
  };
}

describe('RenewalSchedule.afterSuccess', () => {
  it('waits renewal_interval after a full run of hour-long certificates, giving no reason', () => {
    const schedule = new RenewalSchedule(TWENTY_MINUTES, undefined);
    schedule.record(summary(START, 60 * MINUTE), true, START);
    expect(schedule.afterSuccess(START)).toEqual({ delay: TWENTY_MINUTES });
  });

  it('gives no reason for a wait that is shorter only because time passed since the run', () => {
    const schedule = new RenewalSchedule(TWENTY_MINUTES, undefined);
    schedule.record(summary(START, 60 * MINUTE), true, START);
    expect(schedule.afterSuccess(START + 1)).toEqual({ delay: TWENTY_MINUTES - 1 });
    // A retry of failed outputs, five minutes on, leaves the full run where it was.
    schedule.record(summary(START + 5 * MINUTE, 60 * MINUTE), false, START + 5 * MINUTE);
    expect(schedule.afterSuccess(START + 5 * MINUTE)).toEqual({ delay: 15 * MINUTE });
  });

  it('names the expiry that brought the renewal forward, also after a retry of failed outputs', () => {
    const schedule = new RenewalSchedule(TWENTY_MINUTES, undefined);
    schedule.record(summary(START, 10 * MINUTE), true, START);
    const expiry = START + 10 * MINUTE;
    expect(schedule.afterSuccess(START)).toEqual({ delay: 5 * MINUTE, shortenedBy: expiry });
    // The retry wrote an output with the identity the full run obtained, which expires first.
    schedule.record(summary(START, 10 * MINUTE), false, START + MINUTE);
    expect(schedule.afterSuccess(START + MINUTE)).toEqual({ delay: 4 * MINUTE, shortenedBy: expiry });
  });
});
