import { createPublicKey, type KeyObject, X509Certificate } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { Random } from '../core/random.js';
import { caPin } from '../pki/ca-pin.js';
import { parsePrivateKeyPem, privateKeyToPem } from '../pki/key-encoding.js';
import { generateKeyPair, type SignatureSuiteName } from '../pki/signature-suite.js';
import { toAuthorizedKey } from '../pki/ssh-public-key.js';
import { issueCertificate } from '../pki/x509-certificate.js';

/** How long a certificate authority lives. Leaves are always cut off at their CA's NotAfter. */
export const CA_LIFETIME_MS = 10 * 365 * 24 * 3_600_000;

/** The serialisable form of the cluster's CAs: what a CA store keeps (private keys included). */
export interface StoredCas {
  readonly clusterName: string;
  readonly suite: SignatureSuiteName;
  /** Signs bot identities, application and Kubernetes client certificates. */
  readonly tlsUser: { readonly certificatePem: string; readonly privateKeyPem: string };
  /** Signs the service's own TLS certificate; its pin is the cluster's CA pin. */
  readonly tlsHost: { readonly certificatePem: string; readonly privateKeyPem: string };
  readonly sshUser: { readonly privateKeyPem: string };
  readonly sshHost: { readonly privateKeyPem: string };
}

/**
 * Where the CA keys live: files 0600 in the data directory locally, a Secrets Manager secret on AWS.
 * `createIfAbsent` must be race safe: of two first starts, one set of CAs wins and both use it.
 */
export interface CaStore {
  load(): Promise<StoredCas | undefined>;
  createIfAbsent(cas: StoredCas): Promise<StoredCas>;
}

export interface TlsCa {
  readonly certificatePem: string;
  /** The same certificate, parsed once: every bot call is checked against it. */
  readonly certificate: X509Certificate;
  readonly privateKey: KeyObject;
  readonly notAfter: Date;
}

export interface SshCa {
  readonly privateKey: KeyObject;
  /** `ssh-ed25519 AAAA... <comment>` form. */
  readonly publicKeyLine: string;
}

/** The loaded CAs, keys parsed once. */
export class CertificateAuthorities {
  readonly caPin: string;

  constructor(
    readonly clusterName: string,
    readonly suite: SignatureSuiteName,
    readonly tlsUser: TlsCa,
    readonly tlsHost: TlsCa,
    readonly sshUser: SshCa,
    readonly sshHost: SshCa,
  ) {
    this.caPin = caPin(tlsHost.certificatePem);
  }

  static fromStored(stored: StoredCas): CertificateAuthorities {
    const tls = (entry: StoredCas['tlsUser']): TlsCa => {
      const certificate = new X509Certificate(entry.certificatePem);
      return {
        certificatePem: entry.certificatePem,
        certificate,
        privateKey: parsePrivateKeyPem(entry.privateKeyPem),
        notAfter: new Date(certificate.validTo),
      };
    };
    const ssh = (entry: StoredCas['sshUser'], comment: string): SshCa => {
      const privateKey = parsePrivateKeyPem(entry.privateKeyPem);
      return { privateKey, publicKeyLine: toAuthorizedKey(publicOf(privateKey), comment) };
    };
    return new CertificateAuthorities(
      stored.clusterName,
      stored.suite,
      tls(stored.tlsUser),
      tls(stored.tlsHost),
      ssh(stored.sshUser, `${stored.clusterName} user CA`),
      ssh(stored.sshHost, `${stored.clusterName} host CA`),
    );
  }
}

function publicOf(privateKey: KeyObject): KeyObject {
  return createPublicKey(privateKey);
}

function selfSignedCa(
  suite: SignatureSuiteName,
  commonName: string,
  organization: string,
  clock: Clock,
  random: Random,
): { certificatePem: string; privateKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPair(suite, 'tls-ca');
  const now = clock.now();
  const certificatePem = issueCertificate(
    {
      serial: random.bytes(16),
      subject: { commonName, organization: [organization] },
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + CA_LIFETIME_MS),
      publicKey,
      isCa: true,
      pathLength: 0,
      keyUsage: ['keyCertSign', 'cRLSign', 'digitalSignature'],
    },
    { selfSigned: privateKey },
  );
  return { certificatePem, privateKeyPem: privateKeyToPem(privateKey) };
}

/** Makes a fresh set of CAs for a new cluster. */
export function generateCas(
  clusterName: string,
  suite: SignatureSuiteName,
  clock: Clock,
  random: Random,
): StoredCas {
  return {
    clusterName,
    suite,
    tlsUser: selfSignedCa(suite, `${clusterName} user CA`, clusterName, clock, random),
    tlsHost: selfSignedCa(suite, `${clusterName} host CA`, clusterName, clock, random),
    sshUser: { privateKeyPem: privateKeyToPem(generateKeyPair(suite, 'ssh-ca').privateKey) },
    sshHost: { privateKeyPem: privateKeyToPem(generateKeyPair(suite, 'ssh-ca').privateKey) },
  };
}

/** Loads the cluster's CAs, creating them on first start (race safe through the store). */
export async function loadOrCreateCas(
  store: CaStore,
  options: { clusterName: string; suite: SignatureSuiteName; clock: Clock; random: Random },
): Promise<CertificateAuthorities> {
  const existing =
    (await store.load()) ??
    (await store.createIfAbsent(
      generateCas(options.clusterName, options.suite, options.clock, options.random),
    ));
  return CertificateAuthorities.fromStored(existing);
}
