import { describe, expect, it } from 'vitest';
import { durationAdvice, formatDuration, parseDuration } from '../../lib/core/duration.js';

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

  it('names the units it reads, and for days the same time in hours', () => {
    expect(() => parseDuration('soon', '--ttl')).toThrow(
      '--ttl: "soon" is not a duration; write it in h, m, s or ms, like 1h, 20m, 90s or 1h30m',
    );
    expect(() => parseDuration('400d', '--ttl')).toThrow(
      '--ttl: "400d" is not a duration; write it in h, m, s or ms, like 1h, 20m, 90s or 1h30m (days are not a unit: write 400d as 9600h)',
    );
    expect(durationAdvice('1.5d')).toContain('(days are not a unit: write 1.5d as 36h)');
    expect(durationAdvice('1d12h')).not.toContain('days');
  });

  it('formats back to the shortest exact form', () => {
    expect(formatDuration(5_400_000)).toBe('1h30m');
    expect(formatDuration(3_600_000)).toBe('1h');
    expect(formatDuration(1500)).toBe('1s500ms');
    expect(parseDuration(formatDuration(7_384_000))).toBe(7_384_000);
  });
});
