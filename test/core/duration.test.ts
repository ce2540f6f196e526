import { describe, expect, it } from 'vitest';
import { formatDuration, parseDuration } from '../../lib/core/duration.js';

describe('parseDuration', () => {
  it.each([
    ['1h', 3_600_000],
    ['20m', 1_200_000],
    ['1h30m', 5_400_000],
    ['90s', 90_000],
    ['500ms', 500],
    ['1.5h', 5_400_000],
  ])('reads %s', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '1d', '10', 'h', '-1h', '1h 30m', '1H'])('refuses %j and names the field', (text) => {
    expect(() => parseDuration(text, 'certificate_ttl')).toThrow(/certificate_ttl: ".*" is not a duration/);
  });

  it('formats back to the shortest exact form', () => {
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(formatDuration(3_600_000)).toBe('1h');
    expect(formatDuration(1500)).toBe('1s500ms');
    expect(parseDuration(formatDuration(7_384_000))).toBe(7_384_000);
  });
});
