/**
 * RFC 3339 times, for the timestamp schema and for YAML's `!!timestamp`. Apart from `fields.ts` so that
 * the YAML reader, which the auth Lambda loads only on deploys, imports no zod schema (see
 * `resource-provisioning.ts`).
 */

const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:[Zz]|[+-](\d{2}):(\d{2}))$/;

/**
 * Milliseconds since the epoch for an RFC 3339 time, or undefined. Each field is range-checked first
 * because `Date.parse` quietly rolls "2030-02-30" over into March and accepts "24:00".
 */
export function parseRfc3339(value: string): number | undefined {
  const match = RFC3339.exec(value);
  if (match === null) return undefined;
  const [year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, offsetHour = 0, offsetMinute = 0] =
    match.slice(1).map((part) => Number(part ?? 0));
  const lastDay = new Date(0);
  lastDay.setUTCFullYear(year, month, 0);
  const valid =
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= lastDay.getUTCDate() &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59 &&
    offsetHour <= 23 &&
    offsetMinute <= 59;
  const time = valid ? Date.parse(value) : Number.NaN;
  return Number.isNaN(time) ? undefined : time;
}
