import { secureRandom } from '../../lib/core/random.js';
import { privateKeyToPem } from '../../lib/pki/key-encoding.js';
import { generateKeyPair, type SignatureSuiteName } from '../../lib/pki/signature-suite.js';
import { issueCertificate } from '../../lib/pki/x509-certificate.js';

/** An output's TLS files as the bot writes them: the client certificate, its key and the user CA. */
export interface TlsFiles {
  readonly tlscert: string;
  readonly key: string;
  readonly tlscacerts: string;
}

// Around 2030-01-01, the day the consumer tests' clocks read. The library takes the earlier of
// expires_at and the certificate's notAfter, so within that day the secrets' own times decide.
const NOT_BEFORE = new Date('2029-12-31T00:00:00Z');
const NOT_AFTER = new Date('2030-01-02T00:00:00Z');

export interface TlsFilesOptions {
  /** @default 'bot-ci' */
  readonly commonName?: string;
  /** @default 'balanced' (P-256, a few milliseconds; 'legacy' is RSA-2048, a tenth of a second or so) */
  readonly suite?: SignatureSuiteName;
  /** The client certificate's notAfter. @default 2030-01-02T00:00:00Z */
  readonly notAfter?: Date;
}

/**
 * A fresh user CA and a client certificate it signed, with the certificate's key, made by the
 * project's own PKI code. Each call makes new keys, so two calls give two pairs whose keys do not
 * match each other's certificates.
 *
 * @example
 * const files = { ...issueTlsFiles(), 'kubeconfig.yaml': kubeconfig };
 */
export function issueTlsFiles(options: TlsFilesOptions = {}): TlsFiles {
  const suite = options.suite ?? 'balanced';
  const caKeys = generateKeyPair(suite, 'tls-ca');
  const caCertificatePem = issueCertificate(
    {
      serial: secureRandom.bytes(16),
      subject: { commonName: 'Machine ID user CA' },
      notBefore: NOT_BEFORE,
      notAfter: NOT_AFTER,
      publicKey: caKeys.publicKey,
      isCa: true,
      keyUsage: ['keyCertSign', 'cRLSign'],
    },
    { selfSigned: caKeys.privateKey },
  );
  const keys = generateKeyPair(suite, 'subject');
  const certificatePem = issueCertificate(
    {
      serial: secureRandom.bytes(16),
      subject: { commonName: options.commonName ?? 'bot-ci' },
      notBefore: NOT_BEFORE,
      notAfter: options.notAfter ?? NOT_AFTER,
      publicKey: keys.publicKey,
      isCa: false,
      keyUsage: ['digitalSignature'],
      extendedKeyUsage: ['clientAuth'],
    },
    { certificatePem: caCertificatePem, privateKey: caKeys.privateKey },
  );
  return { tlscert: certificatePem, key: privateKeyToPem(keys.privateKey), tlscacerts: caCertificatePem };
}
