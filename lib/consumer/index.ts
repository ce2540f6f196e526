/**
 * The consumer library: read a bot's output from AWS Secrets Manager in a Lambda, an ECS task or a
 * script, with a cache that refreshes before expiry and rides out short Secrets Manager outages, and
 * use it for mutual TLS or write it to a folder for ssh, kubectl and curl. See README.md beside this
 * file for the ECS and Lambda-extension alternatives.
 *
 * @example
 * import { fetch } from 'undici';
 * import { loadIdentity, createMtlsDispatcher } from 'serverless-machine-id/consumer';
 *
 * const identity = await loadIdentity({ secretId: 'machine-id/ci/billing' });
 * const answer = await fetch('https://billing.internal/api', { dispatcher: createMtlsDispatcher(identity, { ca }) });
 *
 * @packageDocumentation
 */
export { createMtlsAgent, type MtlsAgentOptions } from './create-mtls-agent.js';
export { createMtlsDispatcher, type MtlsDispatcherOptions } from './create-mtls-dispatcher.js';
export {
  ConsumerError,
  IdentityAccessDeniedError,
  IdentityExpiredError,
  IdentityFormatError,
  IdentityNotFoundError,
  IdentityWriteError,
  SecretsManagerUnavailableError,
} from './errors.js';
export { type Identity, parseIdentity } from './identity.js';
export { type CachedIdentity, type IdentityCache, MemoryIdentityCache } from './identity-cache.js';
export {
  type IdentityFetcher,
  SecretsManagerFetcher,
  type SecretsManagerFetcherOptions,
} from './identity-fetcher.js';
export {
  IdentityLoader,
  type IdentityLoaderOptions,
  type LoadIdentityOptions,
  loadIdentity,
  type RefreshErrorContext,
} from './identity-loader.js';
export {
  rewriteSshConfigPaths,
  type WrittenIdentityFiles,
  writeIdentityFiles,
} from './write-identity-files.js';
