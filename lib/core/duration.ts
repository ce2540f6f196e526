import { ConfigError } from './errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^(?:\d+(?:\.\d+)?(?:ms|s|m|h))+$/;
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;

/** A count of days, the unit people reach for first (Teleport's `--ttl` is Go's, without one). */
const DAYS = /^(\d+(?:\.\d+)?)d$/;

/**
 * What to write instead of a text that is not a duration: the units `parseDuration` reads and, for a
 * count of days, the same time in hours. Goes after "is not a duration" or "expected a duration".
 */
export function durationAdvice(text: string): string {
  const days = DAYS.exec(text.trim())?.[1];
  const inHours =
    days === undefined
      ? ''
      : ` (days are not a unit: write ${text.trim()} as ${formatDuration(Math.round(Number(days) * 86_400_000))})`;
  return `write it in h, m, s or ms, like 1h, 20m, 90s or 1h30m${inHours}`;
}

/**
 * Parses a Go-style duration as Teleport and tbot write them ("1h", "20m", "1h30m", "90s", "500ms")
 * into milliseconds. Days are deliberately not a unit (as in Go): write "24h".
 */
export function parseDuration(text: string, field = 'duration'): number {
  const trimmed = text.trim();
  if (!DURATION.test(trimmed)) {
    throw new ConfigError(
      'invalid_duration',
      `${field}: "${text}" is not a duration; ${durationAdvice(text)}`,
    );
  }
  let total = 0;
  for (const [, amount, unit] of trimmed.matchAll(PART)) {
    total += Number(amount) * (UNIT_MS[unit as string] as number);
  }
  return Math.round(total);
}

/** Formats milliseconds the way `parseDuration` reads them, shortest exact form ("1h", "1h30m", "45s"). */
export function formatDuration(ms: number): string {
  if (ms === 0) return '0s';
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of [
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const) {
    const whole = Math.floor(rest / size);
    if (whole > 0) {
      parts.push(`${whole}${unit}`);
      rest -= whole * size;
    }
  }
  if (rest > 0) parts.push(`${rest}ms`);
  return parts.join('');
}
