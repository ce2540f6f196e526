/** Small measuring helpers shared by the bench sections. */

export function rate(count: number, ms: number): number {
  return (count * 1000) / ms;
}

/** Runs `work` back to back for `durationMs`; how many times it ran, and for how long exactly. */
export function timeFor(durationMs: number, work: () => void): { count: number; ms: number } {
  const start = performance.now();
  let count = 0;
  while (performance.now() - start < durationMs) {
    work();
    count += 1;
  }
  return { count, ms: performance.now() - start };
}

/** Nearest-rank percentile (`p` in 0..100) of a non-empty sample. */
export function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export const median = (samples: readonly number[]): number => percentile(samples, 50);

/** `1,234` */
export const fmt = (value: number): string => Math.round(value).toLocaleString('en-US');

/** `12.3` */
export const ms = (value: number): string => value.toFixed(1);

export const verdict = (ok: boolean): string => (ok ? 'OK' : 'BELOW TARGET');
