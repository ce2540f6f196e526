import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConsumerError, type SecretsManagerUnavailableError } from './errors.js';
import type { Identity } from './identity.js';
import type { IdentityCache } from './identity-cache.js';
import type { IdentityFetcher } from './identity-fetcher.js';

/** Passed to `onRefreshError` when a refresh failed and the loader served its cached identity instead. */
export interface RefreshErrorContext {
  readonly secretId: string;
  /** The still-valid identity that was served. */
  readonly served: Identity;
}

export interface IdentityLoaderOptions {
  /**
   * The client the default fetcher uses; build it once and share it. Ignored when `fetcher` is given.
   * @default a client for the environment's region and credentials (see {@link SecretsManagerFetcher})
   */
  readonly client?: SecretsManagerClient;
  /** @default new SecretsManagerFetcher({ client }) */
  readonly fetcher?: IdentityFetcher;
  /** @default new MemoryIdentityCache() */
  readonly cache?: IdentityCache;
  /** Epoch milliseconds. @default Date.now */
  readonly clock?: () => number;
  /**
   * Refresh once less than this fraction of the identity's lifetime (expires_at − issued_at) remains.
   * With the default schedule (1 h certificates, renewed every 20 min) a third means the loader
   * picks up the renewal 40 min in, when the bot has written it 20 min earlier. Between 0 and 1.
   * @default 1/3
   */
  readonly refreshWhenRemaining?: number;
  /**
   * While refreshing is due, ask Secrets Manager at most this often: when the bot has not renewed
   * yet, or Secrets Manager is down, every call would otherwise go to Secrets Manager.
   * An expired cached identity is always refetched.
   * @default 30_000
   */
  readonly minRefreshIntervalMs?: number;
  /**
   * How long a caller waits for a due refresh while a still valid identity is cached. A slower
   * Secrets Manager (a hung connection, a long retry) does not hold the caller: it gets the cached
   * identity, and the refresh finishes in the background for the next call. A fast definite answer
   * (secret deleted, access revoked) is still thrown.
   * @default 1_000
   */
  readonly refreshWaitMs?: number;
  /**
   * The longest one fetch may take before it counts as Secrets Manager being unavailable (then the
   * cached identity is served while valid, as for any outage). The default client gives up well
   * before this (3 s to connect, 5 s a request, three attempts); this bounds a client of your own
   * without timeouts, or a custom `fetcher`, which would otherwise hold every caller for as long as
   * one call hangs once nothing valid is cached. Its answer, should it come later, is dropped.
   * @default 30_000
   */
  readonly fetchTimeoutMs?: number;
  /**
   * After a fetch failed with no valid identity to serve instead (the secret is missing or still the
   * placeholder, access is denied, Secrets Manager is throttling), later loads of that secret throw
   * the same error without asking Secrets Manager for a while: 1 s, doubling with each failure in a
   * row up to this. Callers that load on every request then do not turn a misconfiguration or an
   * outage into a flood of calls. A success or `invalidate` ends it; 0 turns it off.
   * @default 30_000
   */
  readonly maxFailureBackoffMs?: number;
  /**
   * Called when a refresh failed because Secrets Manager was unavailable and the cached, still valid
   * identity was served instead; for logs and metrics. The error carries no secret value.
   * @default nothing
   */
  readonly onRefreshError?: (error: SecretsManagerUnavailableError, context: RefreshErrorContext) => void;
}

const DEFAULT_REFRESH_WHEN_REMAINING = 1 / 3;
const DEFAULT_MIN_REFRESH_INTERVAL_MS = 30_000;
const DEFAULT_REFRESH_WAIT_MS = 1_000;
const DEFAULT_MAX_FAILURE_BACKOFF_MS = 30_000;
const DEFAULT_FETCH_TIMEOUT_MS = 30_000;
/** The longest a Node.js timer waits: a longer delay is taken as 1 ms, which would time out every call. */
const MAX_TIMER_MS = 2 ** 31 - 1;
/** The loader's timings, checked: what {@link IdentityLoader} runs with. */
export interface LoaderTimings {
  readonly refreshWhenRemaining: number;
  readonly minRefreshIntervalMs: number;
  readonly refreshWaitMs: number;
  readonly maxFailureBackoffMs: number;
  readonly fetchTimeoutMs: number;
}

/**
 * The timings of `options`, defaults filled in, each refused with what it must be when out of range.
 *
 * @throws {@link ConsumerError} `invalid_option` naming the option, what it must be and the value.
 */
export function loaderTimings(options: IdentityLoaderOptions): LoaderTimings {
  const upToTimer = `at most ${MAX_TIMER_MS} (about 24.8 days)`;
  return {
    refreshWhenRemaining: checked(
      'refreshWhenRemaining',
      options.refreshWhenRemaining ?? DEFAULT_REFRESH_WHEN_REMAINING,
      (value) => value > 0 && value < 1,
      'a fraction of the lifetime between 0 and 1 (e.g. 1/3)',
    ),
    minRefreshIntervalMs: checked(
      'minRefreshIntervalMs',
      options.minRefreshIntervalMs ?? DEFAULT_MIN_REFRESH_INTERVAL_MS,
      (value) => value >= 0 && Number.isFinite(value),
      '0 or more',
    ),
    refreshWaitMs: checked(
      'refreshWaitMs',
      options.refreshWaitMs ?? DEFAULT_REFRESH_WAIT_MS,
      (value) => value >= 0 && value <= MAX_TIMER_MS,
      `0 or more and ${upToTimer}`,
    ),
    maxFailureBackoffMs: checked(
      'maxFailureBackoffMs',
      options.maxFailureBackoffMs ?? DEFAULT_MAX_FAILURE_BACKOFF_MS,
      (value) => value >= 0 && Number.isFinite(value),
      '0 or more',
    ),
    fetchTimeoutMs: checked(
      'fetchTimeoutMs',
      options.fetchTimeoutMs ?? DEFAULT_FETCH_TIMEOUT_MS,
      (value) => value > 0 && value <= MAX_TIMER_MS,
      `more than 0 and ${upToTimer}`,
    ),
  };
}

/** `value`, when `ok` holds for it; otherwise refused as `OPTION must be RULE, got VALUE`. */
function checked(option: string, value: number, ok: (value: number) => boolean, rule: string): number {
  if (ok(value)) return value;
  throw new ConsumerError('invalid_option', `${option} must be ${rule}, got ${value}`);
}
