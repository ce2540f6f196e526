import { InvalidRequestError } from '../core/errors.js';

/** How long an operator's lock is asked to last: until unlocked, for a while, or until a time. */
export interface LockLifetime {
  /** `midctl lock --ttl`: from the service's clock, so that the operator's clock does not matter. */
  readonly ttl_seconds?: number | undefined;
  /** `midctl lock --expires`: an RFC 3339 time. */
  readonly expires?: string | undefined;
}

/**
 * When a lock asked for with `lifetime` lifts by itself (an ISO time), or undefined for a lock that
 * lasts until `midctl unlock`. A time that has already passed is refused: such a lock would lock
 * nothing, which the operator cannot have meant.
 */
export function lockExpiry(lifetime: LockLifetime, now: number): string | undefined {
  if (lifetime.ttl_seconds !== undefined && lifetime.expires !== undefined) {
    throw new InvalidRequestError(
      'invalid_lock_lifetime',
      'give the lock a ttl_seconds or an expires time, not both (midctl: --ttl or --expires)',
    );
  }
  if (lifetime.ttl_seconds !== undefined) return new Date(now + lifetime.ttl_seconds * 1000).toISOString();
  if (lifetime.expires === undefined) return undefined;
  const at = Date.parse(lifetime.expires);
  if (!(at > now)) {
    throw new InvalidRequestError(
      'invalid_lock_lifetime',
      `expires: got "${lifetime.expires}", which has already passed (the service's time is ${new Date(now).toISOString()}); give a later time, or a --ttl`,
    );
  }
  return new Date(at).toISOString();
}

/** Whether a lock that lifts at `expires` (if ever) still holds at `now`. */
export function lockHolds(expires: string | undefined, now: number): boolean {
  return expires === undefined || Date.parse(expires) > now;
}

/** `" (until 2026-…)"` for a lock that lifts by itself, nothing otherwise: appended to what says it is locked. */
export function untilText(expires: string | undefined): string {
  return expires === undefined ? '' : ` (until ${expires})`;
}
