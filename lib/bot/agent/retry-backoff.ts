/** How the agent spaces its retries after a failed run. */
export interface BackoffOptions {
  /** The first retry's delay. @default 1 s */
  readonly baseMs?: number;
  /** No retry waits longer than this, nor longer than half the renewal interval. @default 5 min */
  readonly maxMs?: number;
  /**
   * Up to this fraction of each delay is taken off at random, so that many bots failing together do
   * not retry in step. @default 0.2
   */
  readonly jitter?: number;
}

/**
 * The delay before retry number `attempt` (1, 2, 3…): 1 s, 2 s, 4 s… doubled each time, capped at half
 * the renewal interval (a retry must come well before the next regular renewal would) and at `maxMs`,
 * minus a random share of up to `jitter`. `random` returns a number in [0, 1).
 */
export function backoffDelay(
  attempt: number,
  renewalIntervalMs: number,
  random: () => number,
  options: BackoffOptions = {},
): number {
  const base = options.baseMs ?? 1_000;
  const cap = Math.min(options.maxMs ?? 300_000, renewalIntervalMs / 2);
  const exponential = Math.min(base * 2 ** Math.max(0, attempt - 1), cap);
  return Math.max(1, Math.round(exponential * (1 - (options.jitter ?? 0.2) * random())));
}
