import { ApiError } from '../../api/api-client.js';
import { DestinationError, MidError, StorageError, UpstreamError } from '../../core/errors.js';

/**
 * A run of the agent failed at one step. The message says which step and why (the cause's message,
 * which never holds a secret), `code` is the cause's stable code, and `retryable` says whether trying
 * again later can help (the service was down) or a person must act (a refused token, a wrong pin).
 */
export class BotRunError extends MidError {
  /** What the agent was doing, e.g. `renewing the bot identity`. */
  readonly step: string;
  readonly retryable: boolean;

  constructor(step: string, cause: unknown, extra: { context?: string; hint?: string } = {}) {
    const message = cause instanceof Error ? cause.message : String(cause);
    super(
      cause instanceof MidError ? cause.code : 'internal_error',
      `${step} failed: ${extra.context ?? ''}${message}${extra.hint === undefined ? '' : `${/[.!?]$/.test(message) ? '' : '.'} ${extra.hint}`}`,
      { cause },
    );
    this.step = step;
    this.retryable = isTransient(cause);
  }
}

/** Destination failures a later attempt may not meet again (a full disk gets freed, I/O hiccups). */
const TRANSIENT_DESTINATION_CODES = new Set(['destination_full', 'destination_write_failed']);

/** Refusals of an operator's lock (on the instance, the whole bot or one of its roles): `midctl unlock` lifts them. */
const OPERATOR_LOCK_CODES = new Set(['instance_locked_by_operator', 'bot_locked', 'role_locked']);

/**
 * Whether an error is worth retrying: the auth service unreachable, timing out, overloaded or failing
 * (5xx, 429), an operator's lock on the instance or the bot (lifted by `midctl unlock` or at its
 * expiry, after which the same identity carries on, as tbot does), or storage that failed for a passing reason. Other refusals (4xx),
 * bad config and a CA pin mismatch are not: retrying would only repeat them.
 */
export function isTransient(error: unknown): boolean {
  if (error instanceof BotRunError) return error.retryable;
  if (error instanceof ApiError) {
    return error.httpStatus >= 500 || error.httpStatus === 429 || OPERATOR_LOCK_CODES.has(error.code);
  }
  if (error instanceof UpstreamError) return true;
  if (error instanceof StorageError) return error.code !== 'invalid_stored_identity';
  if (error instanceof DestinationError) return TRANSIENT_DESTINATION_CODES.has(error.code);
  if (error instanceof MidError) return false;
  // Node network errors that escaped a wrapper (ECONNRESET and the like).
  return typeof (error as NodeJS.ErrnoException | undefined)?.code === 'string';
}

/**
 * Folders a person makes writable again while midbot runs (`chmod`, a remount read-write): the storage
 * check before each renewal, or an output's folder. A daemon that has written before keeps retrying
 * these, with its artifacts in place until they expire, instead of stopping for good; a first run
 * still stops on them, before joining, so that the same token joins once the folder is fixed.
 */
const FIXABLE_FOLDER_CODES = new Set(['destination_permission_denied', 'destination_read_only']);

export function isFixableWhileRunning(error: unknown): boolean {
  return error instanceof MidError && FIXABLE_FOLDER_CODES.has(error.code);
}
