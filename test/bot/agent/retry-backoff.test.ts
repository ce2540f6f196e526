import { describe, expect, it } from 'vitest';
import { halfwayToExpiry } from '../../../lib/bot/agent/renewal-schedule.js';
import { backoffDelay } from '../../../lib/bot/agent/retry-backoff.js';

const TWENTY_MINUTES = 1_200_000;

describe('backoffDelay', () => {
  it.each([
    [1, 1_000],
    [2, 2_000],
    [3, 4_000],
    [8, 128_000],
    [9, 256_000],
    [10, 300_000],
    [40, 300_000],
  ])('waits %i → %i ms without jitter, capped at 5 minutes', (attempt, delay) => {
    expect(backoffDelay(attempt, TWENTY_MINUTES, () => 0)).toBe(delay);
  });

  it('never waits as long as half the renewal interval', () => {
    expect([1, 2, 3, 4].map((attempt) => backoffDelay(attempt, 3_000, () => 0))).toEqual([
      1_000, 1_500, 1_500, 1_500,
    ]);
  });

  it('takes up to a fifth off at random so that bots failing together spread out', () => {
    expect(backoffDelay(3, TWENTY_MINUTES, () => 0.999)).toBe(3_201);
    expect(backoffDelay(3, TWENTY_MINUTES, () => 0.5)).toBe(3_600);
  });
});

describe('halfwayToExpiry', () => {
  it('retries at the latest halfway to the expiry of what is in place, never sooner than 1 s', () => {
    expect(halfwayToExpiry(300_000, 90 * 60_000)).toBe(300_000);
    expect(halfwayToExpiry(300_000, 90_000)).toBe(45_000);
    expect(halfwayToExpiry(300_000, 1_500)).toBe(1_000);
  });

  it('leaves the delay alone once everything has expired', () => {
    expect(halfwayToExpiry(300_000, 0)).toBe(300_000);
    expect(halfwayToExpiry(300_000, -5_000)).toBe(300_000);
  });
});
