import { Agent } from 'undici';
import { clientCredentials } from './create-mtls-agent.js';
import type { Identity } from './identity.js';

/** Options for {@link createMtlsDispatcher}: undici `Agent` options, with TLS trust given as `ca`. */
export interface MtlsDispatcherOptions extends Omit<Agent.Options, 'connect'> {
  /** CA certificates (PEM) to trust for the servers called. @default Node's public roots */
  readonly ca?: string | readonly string[];
  /** The name to check the server certificate against, when it is not the URL's host. */
  readonly servername?: string;
  /** TCP/TLS connect timeout in milliseconds. @default undici's (10 s) */
  readonly connectTimeoutMs?: number;
}

/**
 * An undici `Agent` that presents the identity's client certificate, for `fetch(url, { dispatcher })`
 * with undici's `fetch`, or Node's global one (which accepts it at run time, but `@types/node` 20
 * types it with undici 6's `Dispatcher`, so TypeScript wants `{ dispatcher } as unknown as RequestInit`
 * there). Server trust works as in {@link createMtlsAgent}: pass `ca`
 * for an app whose server certificate a private CA signed; the identity's own CAs are not trusted
 * for servers unless you pass them. Close it (`await dispatcher.close()`) when the identity is
 * replaced, so its pooled connections, which hold the old certificate, go away.
 *
 * @throws {@link IdentityFormatError} when the identity has no `tlscert` or `key`.
 *
 * @example
 * import { fetch } from 'undici';
 *
 * const identity = await loader.load('machine-id/ci/billing');
 * const dispatcher = createMtlsDispatcher(identity, { ca: billingCaPem });
 * const answer = await fetch('https://billing.internal/api/invoices', { dispatcher });
 */
export function createMtlsDispatcher(identity: Identity, options: MtlsDispatcherOptions = {}): Agent {
  const { cert, key } = clientCredentials(identity);
  const { ca, servername, connectTimeoutMs, ...agentOptions } = options;
  return new Agent({
    ...agentOptions,
    connect: {
      cert,
      key,
      rejectUnauthorized: true,
      ...(ca !== undefined ? { ca: typeof ca === 'string' ? ca : [...ca] } : {}),
      ...(servername !== undefined ? { servername } : {}),
      ...(connectTimeoutMs !== undefined ? { timeout: connectTimeoutMs } : {}),
    },
  });
}
