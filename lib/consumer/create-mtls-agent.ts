import https from 'node:https';
import { IdentityFormatError } from './errors.js';
import type { Identity } from './identity.js';

/**
 * Options for {@link createMtlsAgent}: any `https.Agent` option except the client credentials, which
 * come from the identity, and `rejectUnauthorized`, which stays on.
 */
export type MtlsAgentOptions = Omit<
  https.AgentOptions,
  'cert' | 'key' | 'pfx' | 'passphrase' | 'rejectUnauthorized'
>;

/**
 * An `https.Agent` that presents the identity's client certificate (`tlscert` + `key`) to the apps it
 * calls (mutual TLS).
 *
 * Which servers it trusts is up to you, through `ca`: by default Node's public roots, as for any
 * HTTPS call. The identity's `tlscacerts` are the CAs that sign *client* certificates; they are not
 * trusted for servers unless you pass them yourself (`ca: identity.tlsCaCerts`), since anyone holding
 * a client certificate from that CA could then pose as your app. To trust a private CA on top of the
 * public roots: `ca: [...tls.rootCertificates, appCaPem]`.
 *
 * The agent keeps the key for its lifetime: make a new one when the loader returns a new identity
 * (compare `serial`).
 *
 * @throws {@link IdentityFormatError} when the identity has no `tlscert` or `key` (an `ssh_host` output).
 *
 * @example
 * const identity = await loader.load('machine-id/ci/grafana');
 * const agent = createMtlsAgent(identity, { ca: grafanaServerCaPem });
 * https.get('https://grafana.internal/api/health', { agent }, (res) => res.pipe(process.stdout));
 */
export function createMtlsAgent(identity: Identity, options: MtlsAgentOptions = {}): https.Agent {
  const { cert, key } = clientCredentials(identity);
  return new https.Agent({ ...options, cert, key, rejectUnauthorized: true });
}

/** The PEM certificate and key of an identity, or a clear error when the output has none. */
export function clientCredentials(identity: Identity): { cert: string; key: string } {
  if (identity.tlsCert === undefined || identity.key === undefined) {
    throw new IdentityFormatError(
      `output ${identity.output} in secret ${identity.secretId} has no ${identity.tlsCert === undefined ? 'tlscert' : 'key'}: mutual TLS needs an identity, application or kubernetes output`,
      { secretId: identity.secretId },
    );
  }
  return { cert: identity.tlsCert, key: identity.key };
}
