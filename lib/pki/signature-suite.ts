import type { KeyObject } from 'node:crypto';
import { PkiError } from '../core/errors.js';
import { generateP256KeyPair } from './ec-key-pair.js';
import { generateEd25519KeyPair } from './ed25519-key-pair.js';
import { generateRsaKeyPair } from './rsa-key-pair.js';

/**
 * A cluster's choice of key algorithms. `balanced` (the default) follows Teleport's suite of the same
 * name; `legacy` is RSA-2048 everywhere for peers that cannot do anything else.
 */
export type SignatureSuiteName = 'balanced' | 'legacy';

/**
 * What a key is for. A `subject` key is written once as the output's `key` file and used both with the
 * TLS client certificate and with the SSH certificate, so it must be a type that OpenSSL-based tools
 * (curl, openssl), Go (kubectl) and OpenSSH all take: ECDSA P-256 or RSA, not Ed25519.
 */
export type KeyRole = 'tls-ca' | 'ssh-ca' | 'subject';

export const SIGNATURE_SUITES: readonly SignatureSuiteName[] = Object.freeze(['balanced', 'legacy']);

type Algorithm = { type: 'ec'; curve: 'P-256' } | { type: 'ed25519' } | { type: 'rsa'; bits: 2048 };

const SUITES: Record<SignatureSuiteName, Record<KeyRole, Algorithm>> = {
  balanced: {
    'tls-ca': { type: 'ec', curve: 'P-256' },
    // Ed25519 SSH CAs are accepted by every supported OpenSSH and sign deterministically.
    'ssh-ca': { type: 'ed25519' },
    subject: { type: 'ec', curve: 'P-256' },
  },
  legacy: {
    'tls-ca': { type: 'rsa', bits: 2048 },
    'ssh-ca': { type: 'rsa', bits: 2048 },
    subject: { type: 'rsa', bits: 2048 },
  },
};

export interface KeyPair {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
}

/** A fresh key pair for `role` under `suite`. */
export function generateKeyPair(suite: SignatureSuiteName, role: KeyRole): KeyPair {
  const algorithm = SUITES[suite]?.[role];
  switch (algorithm?.type) {
    case 'ec':
      return generateP256KeyPair();
    case 'ed25519':
      return generateEd25519KeyPair();
    case 'rsa':
      return generateRsaKeyPair(algorithm.bits);
    default:
      throw new PkiError(
        'unknown_signature_suite',
        `Unknown signature suite "${String(suite)}" or key role "${String(role)}"; suites are ${SIGNATURE_SUITES.join(', ')} and roles are tls-ca, ssh-ca, subject.`,
      );
  }
}
