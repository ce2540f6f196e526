import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ConsumerError, IdentityExpiredError, SecretsManagerUnavailableError } from './errors.js';
import type { Identity } from './identity.js';
import { parseIdentity } from './identity.js';
import { type IdentityCache, MemoryIdentityCache } from './identity-cache.js';
import { type IdentityFetcher, SecretsManagerFetcher, secretsManagerError } from './identity-fetcher.js';
import { type IdentityLoaderOptions, loaderTimings } from './identity-loader-options.js';
import { checkSecretId, loadIdentityOptionsProblem } from './secret-id-argument.js';

export type { IdentityLoaderOptions, RefreshErrorContext } from './identity-loader-options.js';

const FIRST_FAILURE_BACKOFF_MS = 1_000;

/** A failed fetch, answered again without a call until `retryAt`. */
interface RecentFailure {
  readonly error: ConsumerError;
  readonly retryAt: number;
  readonly backoffMs: number;
}

/**
 * Loads bot identities from Secrets Manager and keeps them in a cache (SECURITY rule 14):
 *
 * - a cached identity is served until less than `refreshWhenRemaining` of its lifetime remains, then
 *   fetched again; concurrent callers share one in-flight fetch;
 * - if Secrets Manager is unavailable (throttled, 5xx, network, timeout), the cached identity is
 *   served for as long as it is valid, and `onRefreshError` is told;
 * - an expired identity is never returned: {@link IdentityExpiredError} instead;
 * - a definite answer (not found, access denied, a value that is not an identity) is thrown even
 *   when something is cached: it is a configuration change, not an outage;
 * - a failure with nothing valid to serve is thrown again, without a call, for a backoff that grows
 *   from 1 s to `maxFailureBackoffMs`, as the AWS caching clients do.
 *
 * @example
 * // Once per process (a Lambda's module scope, an ECS task's start-up):
 * // A client of your own: keep timeouts, or a hung connection waits as long as the Lambda lives.
 * const client = new SecretsManagerClient({ requestHandler: { connectionTimeout: 3_000, requestTimeout: 5_000 } });
 * const loader = new IdentityLoader({ client });
 * // Per request: cheap, it hits Secrets Manager only when a refresh is due.
 * const identity = await loader.load('machine-id/ci/grafana');
 * const agent = createMtlsAgent(identity, { ca: grafanaCaPem });
 */
export class IdentityLoader {
  private readonly fetcher: IdentityFetcher;
  private readonly cache: IdentityCache;
  private readonly clock: () => number;
  private readonly refreshWhenRemaining: number;
  private readonly minRefreshIntervalMs: number;
  private readonly refreshWaitMs: number;
  private readonly maxFailureBackoffMs: number;
  private readonly fetchTimeoutMs: number;
  private readonly onRefreshError: IdentityLoaderOptions['onRefreshError'];
  private readonly inFlight = new Map<string, Promise<Identity>>();
  private readonly failures = new Map<string, RecentFailure>();

  constructor(options: IdentityLoaderOptions = {}) {
    const timings = loaderTimings(options);
    this.refreshWhenRemaining = timings.refreshWhenRemaining;
    this.minRefreshIntervalMs = timings.minRefreshIntervalMs;
    this.refreshWaitMs = timings.refreshWaitMs;
    this.maxFailureBackoffMs = timings.maxFailureBackoffMs;
    this.fetchTimeoutMs = timings.fetchTimeoutMs;
    this.fetcher = options.fetcher ?? new SecretsManagerFetcher({ client: options.client });
    this.cache = options.cache ?? new MemoryIdentityCache();
    this.clock = options.clock ?? Date.now;
    this.onRefreshError = options.onRefreshError;
  }

  /**
   * The current identity of the output written to `secretId` (a secret name or ARN).
   *
   * @throws {@link IdentityExpiredError} when the only identity to be had has expired.
   * @throws {@link IdentityNotFoundError}, {@link IdentityAccessDeniedError}, {@link IdentityFormatError}.
   * @throws {@link SecretsManagerUnavailableError} when Secrets Manager failed and nothing valid is cached.
   *   Each of these is thrown again, without a call, during the failure backoff (see `maxFailureBackoffMs`).
   *
   * @example
   * const { tlsCert, key } = await loader.load('arn:aws:secretsmanager:eu-west-1:123456789012:secret:machine-id/ci/app-AbCdEf');
   */
  async load(secretId: string): Promise<Identity> {
    checkSecretId(secretId, 'load');
    const now = this.clock();
    const failure = this.failures.get(secretId);
    if (failure !== undefined && now < failure.retryAt) throw failure.error;
    const entry = this.cache.get(secretId);
    if (entry !== undefined && now < entry.identity.expiresAt.getTime()) {
      if (!this.refreshDue(entry.identity, now)) return entry.identity;
      if (now - entry.checkedAt < this.minRefreshIntervalMs) return entry.identity;
      return this.refreshOrServe(secretId, entry.identity);
    }
    return this.refresh(secretId);
  }

  /** A due refresh, awaited for `refreshWaitMs` at most: then the cached identity, still valid, is served. */
  private async refreshOrServe(secretId: string, cached: Identity): Promise<Identity> {
    const refreshing = this.refresh(secretId);
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<'waited'>((resolve) => {
      timer = setTimeout(() => resolve('waited'), this.refreshWaitMs);
      // A pending refresh must not keep a process (or a Lambda's event loop) alive on its own account.
      timer.unref?.();
    });
    try {
      const first = await Promise.race([refreshing, waited]);
      if (first !== 'waited') return first;
    } finally {
      clearTimeout(timer);
    }
    // Expired while the caller waited: nothing valid to serve, so the refresh's outcome is the answer,
    // as for any load with an expired identity cached.
    if (this.clock() >= cached.expiresAt.getTime()) return refreshing;
    // The refresh goes on; whatever it ends in is for the next call (an outage is handled by it).
    refreshing.catch(() => {});
    return cached;
  }

  /**
   * Drops the cached identity of `secretId`, so the next `load` fetches it.
   *
   * @example
   * loader.invalidate('machine-id/ci/grafana'); // after the app answered 401 to the current certificate
   */
  invalidate(secretId: string): void {
    // A wrong argument would leave the cached identity in place without a word.
    if (typeof secretId !== 'string') checkSecretId(secretId, 'invalidate');
    this.cache.delete(secretId);
    this.failures.delete(secretId);
  }

  private refreshDue(identity: Identity, now: number): boolean {
    const expires = identity.expiresAt.getTime();
    const lifetime = expires - identity.issuedAt.getTime();
    return expires - now < lifetime * this.refreshWhenRemaining;
  }

  private refresh(secretId: string): Promise<Identity> {
    const pending = this.inFlight.get(secretId);
    if (pending !== undefined) return pending;
    const fetching = this.fetchAndCache(secretId)
      .then(
        (identity) => {
          this.failures.delete(secretId);
          return identity;
        },
        (error: unknown) => {
          if (error instanceof ConsumerError) this.backOff(secretId, error);
          throw error;
        },
      )
      .finally(() => this.inFlight.delete(secretId));
    this.inFlight.set(secretId, fetching);
    return fetching;
  }

  /** Starts (or doubles) the failure backoff of `secretId`. */
  private backOff(secretId: string, error: ConsumerError): void {
    if (this.maxFailureBackoffMs === 0) return;
    const previous = this.failures.get(secretId)?.backoffMs;
    const backoffMs = Math.min(
      previous === undefined ? FIRST_FAILURE_BACKOFF_MS : previous * 2,
      this.maxFailureBackoffMs,
    );
    this.failures.set(secretId, { error, retryAt: this.clock() + backoffMs, backoffMs });
  }

  /** The fetcher's answer, or {@link SecretsManagerUnavailableError} after `fetchTimeoutMs`. */
  private async fetchWithin(secretId: string): Promise<string> {
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new SecretsManagerUnavailableError(
              `Secrets Manager did not answer for ${secretId} within ${this.fetchTimeoutMs} ms (fetchTimeoutMs); a client of your own needs timeouts (requestHandler: { connectionTimeout, requestTimeout })`,
              { secretId },
            ),
          ),
        this.fetchTimeoutMs,
      );
      // A hung fetch must not keep a process (or a Lambda's event loop) alive on its own account.
      timer.unref?.();
    });
    try {
      return await Promise.race([this.fetcher.fetch(secretId), timedOut]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async fetchAndCache(secretId: string): Promise<Identity> {
    let value: string;
    try {
      value = await this.fetchWithin(secretId);
    } catch (error) {
      return this.serveCached(secretId, secretsManagerError(error, secretId));
    }
    const fetched = parseIdentity(value, secretId);
    const now = this.clock();
    const cached = this.cache.get(secretId)?.identity;
    // Right after the bot writes, a read may still get the previous version: never step back to it.
    // Unless the cached one has expired: a valid identity, however old, beats refusing every caller.
    const identity =
      cached !== undefined &&
      cached.issuedAt.getTime() > fetched.issuedAt.getTime() &&
      now < cached.expiresAt.getTime()
        ? cached
        : fetched;
    if (now >= identity.expiresAt.getTime()) {
      throw new IdentityExpiredError(
        `the identity in secret ${secretId} (output ${identity.output} of bot ${identity.bot}) expired at ${identity.expiresAt.toISOString()}: the bot has not renewed it. Check the bot's logs and schedule (or this machine's clock, which reads ${new Date(now).toISOString()}: one running ahead sees identities expire early)`,
        { secretId, expiresAt: identity.expiresAt },
      );
    }
    this.cache.set(secretId, { identity, checkedAt: now });
    return identity;
  }

  /** After a failed fetch: the cached identity if the failure is an outage and it is still valid. */
  private serveCached(secretId: string, error: ConsumerError): Identity {
    if (!(error instanceof SecretsManagerUnavailableError)) throw error;
    const entry = this.cache.get(secretId);
    if (entry === undefined) throw error;
    const now = this.clock();
    const { identity } = entry;
    if (now >= identity.expiresAt.getTime()) {
      throw new IdentityExpiredError(
        `the cached identity from secret ${secretId} expired at ${identity.expiresAt.toISOString()} and no newer one could be read: ${error.message}`,
        { cause: error, secretId, expiresAt: identity.expiresAt },
      );
    }
    this.cache.set(secretId, { identity, checkedAt: now });
    try {
      this.onRefreshError?.(error, { secretId, served: identity });
    } catch {
      // A failing log hook must not turn a served identity into an outage.
    }
    return identity;
  }
}

export interface LoadIdentityOptions {
  /** The secret's name or ARN. */
  readonly secretId: string;
  /**
   * A client of your own has the SDK's settings: give it timeouts
   * (`requestHandler: { connectionTimeout: 3_000, requestTimeout: 5_000 }`), or a hung connection
   * holds the caller until the Lambda times out.
   * @default a client for the environment's region and credentials, with a 3 s connection and 5 s request timeout
   */
  readonly client?: SecretsManagerClient;
  /** Epoch milliseconds. @default Date.now */
  readonly clock?: () => number;
  /** @default 1/3 (see {@link IdentityLoaderOptions.refreshWhenRemaining}) */
  readonly refreshWhenRemaining?: number;
}

/**
 * Loaders shared by `loadIdentity` calls with the same options, so that calling it on every request
 * still caches. Keyed by identity of the options' values (pass the same client object each time);
 * bounded, so that a caller building a new client per call cannot grow it without end.
 */
const sharedLoaders: Array<{
  client: SecretsManagerClient | undefined;
  clock: (() => number) | undefined;
  refreshWhenRemaining: number | undefined;
  loader: IdentityLoader;
}> = [];
const MAX_SHARED_LOADERS = 16;

/**
 * Loads an identity through a process-wide {@link IdentityLoader} (one per distinct client, clock
 * and refresh setting): cached, refreshed when a third of its lifetime remains, served from the
 * cache while Secrets Manager is unavailable, never expired. For hooks, a custom fetcher or cache,
 * make an `IdentityLoader`.
 *
 * @example
 * import { loadIdentity, createMtlsAgent } from 'serverless-machine-id/consumer';
 *
 * // Once per cold start; with timeouts, as the default client (when `client` is left out) has them.
 * const client = new SecretsManagerClient({ requestHandler: { connectionTimeout: 3_000, requestTimeout: 5_000 } });
 * export const handler = async () => {
 *   const identity = await loadIdentity({ secretId: process.env.IDENTITY_SECRET_ARN!, client });
 *   https.get('https://billing.internal/api', { agent: createMtlsAgent(identity, { ca }) }, onAnswer);
 * };
 */
export function loadIdentity(options: LoadIdentityOptions): Promise<Identity> {
  if (typeof options === 'string') {
    // The mirror image of `loader.load({ secretId })`: say which shape this one takes.
    return Promise.reject(
      new ConsumerError(
        'invalid_secret_id',
        `loadIdentity takes options, not the secret id itself: call loadIdentity({ secretId: ${JSON.stringify((options as string).slice(0, 100))} }), or new IdentityLoader().load(secretId)`,
        { secretId: options },
      ),
    );
  }
  const refused = loadIdentityOptionsProblem(options);
  if (refused !== undefined) return Promise.reject(refused);
  let shared = sharedLoaders.find(
    (entry) =>
      entry.client === options.client &&
      entry.clock === options.clock &&
      entry.refreshWhenRemaining === options.refreshWhenRemaining,
  );
  if (shared === undefined) {
    shared = {
      client: options.client,
      clock: options.clock,
      refreshWhenRemaining: options.refreshWhenRemaining,
      loader: new IdentityLoader({
        ...(options.client !== undefined ? { client: options.client } : {}),
        ...(options.clock !== undefined ? { clock: options.clock } : {}),
        ...(options.refreshWhenRemaining !== undefined
          ? { refreshWhenRemaining: options.refreshWhenRemaining }
          : {}),
      }),
    };
    sharedLoaders.push(shared);
    if (sharedLoaders.length > MAX_SHARED_LOADERS) sharedLoaders.shift();
  }
  return shared.loader.load(options.secretId);
}
