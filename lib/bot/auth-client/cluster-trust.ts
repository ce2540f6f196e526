import { X509Certificate } from 'node:crypto';
import { connect, type PeerCertificate } from 'node:tls';
import { JoinError, UpstreamError } from '../../core/errors.js';
import { caPin } from '../../pki/ca-pin.js';
import { unreachableMessage } from './unreachable-message.js';

/** How the agent trusts the auth service after checking the CA pin. */
export interface ClusterTrust {
  /** PEM of the pinned CA to trust for the service's TLS, or undefined for the system roots. */
  readonly caPem: string | undefined;
  /** The pin that matched. */
  readonly pin: string;
}

function toPem(der: Buffer): string {
  const base64 = der
    .toString('base64')
    .replace(/(.{64})/g, '$1\n')
    .replace(/\n$/, '');
  return `-----BEGIN CERTIFICATE-----\n${base64}\n-----END CERTIFICATE-----\n`;
}

/** The certificates the server presented, leaf first, as far as the chain goes. */
function presentedChain(leaf: PeerCertificate & { issuerCertificate?: PeerCertificate }): Buffer[] {
  const chain: Buffer[] = [];
  let current: (PeerCertificate & { issuerCertificate?: PeerCertificate }) | undefined = leaf;
  while (current?.raw !== undefined && !chain.some((der) => der.equals(current?.raw as Buffer))) {
    chain.push(current.raw);
    current = current.issuerCertificate as typeof current;
  }
  return chain;
}

/**
 * Checks the CA pin against the CA the service presents in its TLS handshake (SECURITY rule 11):
 * the handshake is read without trusting it, a CA certificate in the chain whose SubjectPublicKeyInfo
 * hash matches a pin and that issued the leaf becomes the only trust anchor for every later call.
 * A mismatch aborts with the observed pins; there is no insecure fallback.
 *
 * Only with `publicTls` (the operator's `onboarding.public_tls`: an auth service behind API Gateway,
 * whose chain holds no cluster CA) may a certificate that verifies against the system's roots stand in
 * for a pinned CA; the caller then checks the pin against `/v1/ping` (`verifyPinnedPing`). Without it,
 * a publicly trusted certificate proves nothing about the cluster: anyone can get one for a name they
 * control, or misissued for the auth server's, and replay the public `/v1/ping`.
 */
export async function discoverClusterTrust(
  authServer: string,
  pins: readonly string[],
  options: { readonly publicTls: boolean; readonly timeoutMs?: number },
): Promise<ClusterTrust & { publiclyTrusted: boolean }> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const url = new URL(authServer);
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || 443);
  const { chain, authorized } = await new Promise<{ chain: Buffer[]; authorized: boolean }>(
    (resolve, reject) => {
      const socket = connect(
        {
          host,
          port,
          servername: /^[\d.:]+$/.test(host) ? undefined : host,
          rejectUnauthorized: false,
          timeout: timeoutMs,
        },
        () => {
          const peer = socket.getPeerCertificate(true);
          const result = { chain: presentedChain(peer), authorized: socket.authorized };
          socket.end();
          resolve(result);
        },
      );
      socket.on('timeout', () =>
        socket.destroy(
          new UpstreamError('auth_timeout', `no TLS handshake from ${authServer} within ${timeoutMs} ms`),
        ),
      );
      socket.on('error', (error: NodeJS.ErrnoException) =>
        reject(
          error instanceof UpstreamError
            ? error
            : new UpstreamError('auth_unreachable', unreachableMessage(authServer, error), { cause: error }),
        ),
      );
    },
  );
  const leafDer = chain[0];
  if (leafDer === undefined)
    throw new UpstreamError('no_certificate', `${authServer} presented no TLS certificate`);
  const leaf = new X509Certificate(leafDer);
  const observed: string[] = [];
  let pinnedButNotSigner: string | undefined;
  for (const der of chain.slice(1)) {
    const candidate = new X509Certificate(der);
    const pin = caPin(toPem(der));
    observed.push(pin);
    if (!pins.includes(pin)) continue;
    // Names and key identifiers are labels anyone can copy; the signature is what ties the service's
    // certificate to the pinned CA, whose own certificate is public (any ping shows it).
    if (candidate.ca && leaf.checkIssued(candidate) && leaf.verify(candidate.publicKey)) {
      return { caPem: toPem(der), pin, publiclyTrusted: false };
    }
    pinnedButNotSigner ??= pin;
  }
  if (authorized && options.publicTls) return { caPem: undefined, pin: '', publiclyTrusted: true };
  if (pinnedButNotSigner !== undefined) {
    throw new JoinError(
      'ca_pin_mismatch',
      `the auth service at ${authServer} presented the pinned CA ${pinnedButNotSigner} in its chain, but that CA did not sign the service's certificate: what answers at this address is not the cluster (an impostor, or a proxy that ends TLS); check the address and that nothing intercepts TLS to it`,
    );
  }
  if (pins.length === 0) {
    throw new JoinError(
      'not_publicly_trusted',
      `onboarding.public_tls is set, but the certificate of ${authServer} does not verify against the system's roots; set onboarding.ca_pins to the pin \`midctl status\` prints`,
    );
  }
  const presented = observed.length === 0 ? '(none)' : observed.join(', ');
  throw new JoinError(
    'ca_pin_mismatch',
    authorized
      ? `the auth service at ${authServer} presented a publicly trusted certificate and CA ${presented}, which matches none of the configured ca_pins (${pins.join(', ')}); a pinned cluster must present its pinned CA. If this address is the cluster's API Gateway endpoint, set onboarding.public_tls: true; otherwise check the address`
      : `the auth service at ${authServer} presented CA ${presented}, which matches none of the configured ca_pins (${pins.join(', ')}); check the pin with \`midctl status\` on the cluster, and that the address is right`,
  );
}

/** For publicly trusted endpoints: the pin must match the host CA the service reports over verified TLS. */
export function verifyPinnedPing(
  hostCaPems: readonly string[],
  pins: readonly string[],
  authServer: string,
): ClusterTrust {
  const observed = hostCaPems.map((pem) => caPin(pem));
  const pin = observed.find((candidate) => pins.includes(candidate));
  if (pin === undefined) {
    throw new JoinError(
      'ca_pin_mismatch',
      `the auth service at ${authServer} reports CA ${observed.join(', ') || '(none)'}, which matches none of the configured ca_pins (${pins.join(', ')})`,
    );
  }
  return { caPem: undefined, pin };
}
