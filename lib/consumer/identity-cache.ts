import type { Identity } from './identity.js';

/** What the loader keeps per secret. */
export interface CachedIdentity {
  readonly identity: Identity;
  /** When the loader last asked Secrets Manager (epoch ms), whether that worked or not. */
  readonly checkedAt: number;
}

/**
 * Where the loader keeps identities between calls. The default is in process memory; swap it to
 * share one cache between loaders or to inspect it in tests. Synchronous on purpose: a cache that
 * needs I/O would bring back the outage the cache is there to ride out.
 *
 * @example
 * const cache = new MemoryIdentityCache();
 * const loader = new IdentityLoader({ cache });
 * await loader.load(secretId);
 * cache.get(secretId)?.identity.expiresAt;
 */
export interface IdentityCache {
  get(secretId: string): CachedIdentity | undefined;
  set(secretId: string, entry: CachedIdentity): void;
  delete(secretId: string): void;
}

/**
 * The default {@link IdentityCache}: a `Map` in this process, one entry per secret id.
 *
 * @example
 * const loader = new IdentityLoader({ cache: new MemoryIdentityCache() });
 */
export class MemoryIdentityCache implements IdentityCache {
  private readonly entries = new Map<string, CachedIdentity>();

  get(secretId: string): CachedIdentity | undefined {
    return this.entries.get(secretId);
  }

  set(secretId: string, entry: CachedIdentity): void {
    this.entries.set(secretId, entry);
  }

  delete(secretId: string): void {
    this.entries.delete(secretId);
  }
}
