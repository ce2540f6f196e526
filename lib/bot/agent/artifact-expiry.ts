/** The earliest of `times` later than `now`, or +∞ when none is. */
export function nearestAfter(now: number, times: readonly number[]): number {
  return Math.min(Number.POSITIVE_INFINITY, ...times.filter((time) => time > now));
}

/**
 * Log fields for what has expired among the artifacts of the last good runs: readers of an expired
 * output hold certificates nobody accepts, and once the bot identity has expired only a new join token
 * brings the bot back.
 */
export function expiryFields(
  now: number,
  identityUntil: number,
  outputUntil: ReadonlyMap<number, number>,
): Record<string, string> {
  const expired = [...outputUntil].filter(([, until]) => until <= now).map(([index]) => `outputs[${index}]`);
  return {
    ...(expired.length === 0 ? {} : { expired_outputs: expired.join(',') }),
    ...(identityUntil <= now
      ? { identity_expired_at: new Date(identityUntil).toISOString(), needs: 'a new join token' }
      : {}),
  };
}
