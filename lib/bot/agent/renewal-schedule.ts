import { MIN_RENEWAL_INTERVAL_MS } from '../config/bot-config.js';
import type { RunSummary } from './run-summary.js';

/**
 * When the daemon runs next. It knows what the last runs left in place (the bot identity, at first the
 * one in storage, and each output written) and when the next full run (renew the identity, write every
 * output) is due:
 *
 * - After a full run that went well: after `renewal_interval`, or halfway through what it issued when
 *   that lives less than two intervals (a role's max_session_ttl caps it), never sooner than a minute.
 * - After a failure: the backoff, closing in on the nearest expiry still ahead among the identity and
 *   what failed, so that an outage ending just before it still ends in a renewal.
 * - Retries of outputs that failed alone never push the next full run back: the outputs that were
 *   written, and the identity, are renewed on time while one output keeps failing.
 */
export class RenewalSchedule {
  private identityUntil: number;
  private readonly outputUntil = new Map<number, number>();
  private nextFullRunAt = Number.NEGATIVE_INFINITY;
  /** The expiry that brought the next full run before renewal_interval, when one did. */
  private broughtForwardBy: number | undefined;

  constructor(
    private readonly renewalIntervalMs: number,
    storedIdentityUntil: number | undefined,
  ) {
    this.identityUntil = storedIdentityUntil ?? Number.POSITIVE_INFINITY;
  }

  /** Whether the regular full run is due, which a retry of failed outputs must not stand in for. */
  fullRunDue(now: number): boolean {
    return now >= this.nextFullRunAt;
  }

  /** Takes in what a run left in place; a full run sets when the next one is due. */
  record(summary: RunSummary, full: boolean, now: number): void {
    this.identityUntil = Date.parse(summary.identity.expiresAt);
    for (const output of summary.outputs) {
      if (output.status === 'written') this.outputUntil.set(output.index, Date.parse(output.expiresAt));
      // Refused for good (its app deleted, say): its old artifacts expire whatever midbot does, and
      // closing in on that expiry would only renew everything else for nothing.
      else if (!output.retryable) this.outputUntil.delete(output.index);
    }
    if (full) {
      const delay = this.regularDelay(now);
      this.nextFullRunAt = now + delay;
      this.broughtForwardBy = delay < this.renewalIntervalMs ? this.nearestExpiry(now) : undefined;
    }
  }

  /**
   * The wait after a run that went well, and `shortenedBy`, the expiry that brought the next full run
   * before renewal_interval, when one did. The wait alone says nothing of that: it is shorter than
   * renewal_interval by however long it is since the full run, a retry of failed outputs included.
   */
  afterSuccess(now: number): { delay: number; shortenedBy?: number } {
    const delay = Math.max(1_000, this.nextFullRunAt - now);
    return this.broughtForwardBy === undefined ? { delay } : { delay, shortenedBy: this.broughtForwardBy };
  }

  /**
   * The wait after a failure, from the backoff's `backoffMs`: outputs that failed alone (`failed`) are
   * retried closing in on their own expiry and the identity's, and no later than the next full run; a
   * failed run closes in on everything it would have renewed.
   */
  afterFailure(now: number, backoffMs: number, failed?: ReadonlySet<number>): number {
    const watched =
      failed === undefined
        ? [this.identityUntil, ...this.outputUntil.values()]
        : [this.identityUntil, ...[...failed].flatMap((index) => this.outputUntil.get(index) ?? [])];
    const delay = halfwayToExpiry(backoffMs, nearestAfter(now, watched) - now);
    return failed === undefined ? delay : Math.min(delay, Math.max(1_000, this.nextFullRunAt - now));
  }

  /**
   * Log fields naming what has expired among the artifacts the last runs left: readers of an expired
   * output hold certificates nobody accepts, and once the bot identity has expired only a new join
   * token brings the bot back.
   */
  expiryLogFields(now: number): Record<string, string> {
    const expired = [...this.outputUntil]
      .filter(([, until]) => until <= now)
      .map(([index]) => `outputs[${index}]`);
    return {
      ...(expired.length === 0 ? {} : { expired_outputs: expired.join(',') }),
      ...(this.identityUntil <= now
        ? { identity_expired_at: new Date(this.identityUntil).toISOString(), needs: 'a new join token' }
        : {}),
    };
  }

  private nearestExpiry(now: number): number {
    return nearestAfter(now, [this.identityUntil, ...this.outputUntil.values()]);
  }

  /**
   * Halfway through what was issued when that lives less than two renewal intervals, or they would
   * expire before the next renewal; but never more often than renewal_interval may ask, or a cap of
   * seconds would renew every second.
   */
  private regularDelay(now: number): number {
    return Math.max(
      Math.min(MIN_RENEWAL_INTERVAL_MS, this.renewalIntervalMs),
      halfwayToExpiry(this.renewalIntervalMs, this.nearestExpiry(now) - now),
    );
  }
}

/** The earliest of `times` later than `now`, or +∞ when none is. */
function nearestAfter(now: number, times: readonly number[]): number {
  return Math.min(Number.POSITIVE_INFINITY, ...times.filter((time) => time > now));
}

/**
 * Shortens a delay (a retry's, or the renewal interval after a good run whose certificates a role
 * capped) so that the next attempt comes at the latest halfway to the expiry of what the last good run
 * left in place (`leftMs` from now), and never sooner than 1 s. Near the expiry the
 * retries come closer together, so an outage that ends shortly before it still ends in a renewal
 * before consumers are left with expired certificates; the number of extra attempts is logarithmic.
 * Once it has expired (`leftMs` ≤ 0) the delay stays as it was.
 */
export function halfwayToExpiry(delayMs: number, leftMs: number): number {
  if (!(leftMs > 0)) return delayMs;
  return Math.min(delayMs, Math.max(1_000, Math.floor(leftMs / 2)));
}
