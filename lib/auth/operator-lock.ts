import { MAX_TTL_SECONDS } from '../api/wire-schemas.js';
import { InvalidRequestError } from '../core/errors.js';
import type { AuditEvent } from './audit-log.js';

/*
 * What a lock on a whole bot (`bot-locks.ts`) and a lock on one instance (`instance-locks.ts`) share:
 * how they are asked for, their lifetime, and how refusals and the audit log word them.
 */

/** How an operator's lock is asked for: why, how long it lasts, and whether it replaces one in force. */
export interface LockRequest {
  /** Shown to the bot in each refusal and kept in the audit log. */
  readonly message?: string | undefined;
  /** For a lock that lifts by itself, counted on the service's clock (so the operator's does not matter). */
  readonly ttl_seconds?: number | undefined;
  /** For a lock that lifts by itself at this RFC 3339 time. */
  readonly expires?: string | undefined;
  /** Put this lock in the place of one in force (its reason and lifetime); refused otherwise. */
  readonly replace?: boolean | undefined;
}

/** What a lock says when the operator gives no message. */
export const DEFAULT_LOCK_MESSAGE = 'no reason given';

/**
 * When a lock asked for with `request` lifts by itself (an ISO time), or undefined for a lock that
 * lasts until it is unlocked. A time that has already passed is refused, as such a lock would lock
 * nothing; so is one further ahead than any lifetime the service gives (a lock without one lasts longer).
 */
export function lockExpiry(request: LockRequest, now: number): string | undefined {
  if (request.ttl_seconds !== undefined && request.expires !== undefined) {
    throw new InvalidRequestError(
      'invalid_lock_lifetime',
      'a lock takes ttl_seconds or expires, not both; without either it lasts until it is unlocked',
    );
  }
  if (request.ttl_seconds !== undefined) return new Date(now + request.ttl_seconds * 1000).toISOString();
  if (request.expires === undefined) return undefined;
  const at = Date.parse(request.expires);
  if (!(at > now)) {
    throw new InvalidRequestError(
      'invalid_lock_lifetime',
      `expires: got "${request.expires}", which has already passed (the service's time is ${new Date(now).toISOString()}); give a later time`,
    );
  }
  if (at > now + MAX_TTL_SECONDS * 1000) {
    throw new InvalidRequestError(
      'invalid_lock_lifetime',
      `expires: got "${request.expires}", more than ${MAX_TTL_SECONDS / 86_400} days ahead; give an earlier time, or none for a lock that lasts until it is unlocked`,
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

/** The end of a refusal: how the lock is lifted (`unlockCommand`), and when it lifts by itself if it does. */
export function liftText(expires: string | undefined, unlockCommand: string): string {
  const byOperator = `an operator lifts it with \`${unlockCommand}\``;
  return expires === undefined
    ? `${byOperator.charAt(0).toUpperCase()}${byOperator.slice(1)}`
    : `It lifts by itself at ${expires}, or ${byOperator}`;
}

/** The parts of a lock that say whose it is and why. */
interface HeldLock {
  readonly by?: string | undefined;
  readonly at: string;
  readonly expires?: string | undefined;
  readonly reason: string;
}

/** Who holds a lock, since when, until when, why: `arn:… from 2026-… (until …): reason`. */
function holder(lock: HeldLock): string {
  return `${lock.by ?? 'the auth service'} from ${lock.at}${untilText(lock.expires)}: ${lock.reason}`;
}

/** A lock as the audit log and refusals quote it: `the lock of arn:… from …: reason`. */
export function describeLock(lock: HeldLock): string {
  return `the lock of ${holder(lock)}`;
}

/**
 * The refusal of a second lock on `target` (`bot "robot"`), naming the lock in force (unknown when it
 * expired in between): silently replacing a colleague's lock, with a shorter --ttl say, would lift it
 * unnoticed.
 */
export function alreadyLockedMessage(target: string, current: HeldLock | undefined): string {
  const by = current === undefined ? 'another operator' : holder(current);
  return `${target} is already locked, by ${by}; to put this lock in its place, lock again with replace (midctl lock --replace)`;
}

/**
 * The audit record of an operator's lock of a bot (`instanceId` undefined) or of one of its instances;
 * `replaced`, the lock it took the place of.
 */
export function operatorLockEvent(
  actor: string,
  target: { readonly bot: string; readonly instance?: string },
  lock: { readonly reason: string; readonly expires?: string | undefined },
  replaced?: HeldLock,
): AuditEvent {
  return {
    type: 'bot.lock',
    outcome: 'success',
    code: 'operator_lock',
    actor,
    bot: target.bot,
    ...(target.instance === undefined ? {} : { instance: target.instance }),
    message: lockEventMessage(lock, replaced),
  };
}

/** What the audit record of a lock says: why, until when, and the lock it took the place of. */
export function lockEventMessage(
  lock: { readonly reason: string; readonly expires?: string | undefined },
  replaced?: HeldLock,
): string {
  return `${lock.reason}${untilText(lock.expires)}${replaced === undefined ? '' : `; replaces ${describeLock(replaced)}`}`;
}
