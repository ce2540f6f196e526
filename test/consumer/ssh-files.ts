import type { KeyObject } from 'node:crypto';
import { secureRandom } from '../../lib/core/random.js';
import { generateKeyPair } from '../../lib/pki/signature-suite.js';
import { issueSshCertificate } from '../../lib/pki/ssh-certificate.js';

export interface SshCertificateOptions {
  /** @default 'user' */
  readonly type?: 'user' | 'host';
  /** The certified key. @default a fresh one */
  readonly publicKey?: KeyObject;
  /** @default 2029-12-31T00:00:00Z */
  readonly validAfter?: Date;
  /** @default 2030-01-02T00:00:00Z, the day after the consumer tests' clocks read */
  readonly validBefore?: Date;
}

/**
 * An OpenSSH certificate line as the auth service issues it (`key-cert.pub`, `ssh_host-cert.pub`),
 * signed by a fresh SSH CA with the project's own PKI code.
 *
 * @example
 * const files = { ...issueTlsFiles(), 'key-cert.pub': issueSshCertificateLine() };
 */
export function issueSshCertificateLine(options: SshCertificateOptions = {}): string {
  const ca = generateKeyPair('balanced', 'ssh-ca');
  const type = options.type ?? 'user';
  const line = issueSshCertificate(
    {
      type,
      publicKey: options.publicKey ?? generateKeyPair('balanced', 'subject').publicKey,
      serial: secureRandom.bytes(8).readBigUInt64BE(0),
      keyId: type === 'user' ? 'bot-ci' : 'host node-1',
      principals: [type === 'user' ? 'deploy' : 'node-1.example.test'],
      validAfter: options.validAfter ?? new Date('2029-12-31T00:00:00Z'),
      validBefore: options.validBefore ?? new Date('2030-01-02T00:00:00Z'),
      nonce: secureRandom.bytes(32),
    },
    ca.privateKey,
  );
  return `${line}\n`;
}
