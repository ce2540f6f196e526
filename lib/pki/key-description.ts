import type { KeyObject } from 'node:crypto';
import { PkiError } from '../core/errors.js';

/** The key types `lib/pki` can sign with and certify, and nothing else. */
export type KeyDescription =
  | { kind: 'rsa'; modulusBits: number; publicExponent: bigint }
  | { kind: 'ec'; curve: 'P-256' | 'P-384' }
  | { kind: 'ed25519' };

const CURVES: Record<string, 'P-256' | 'P-384'> = {
  prime256v1: 'P-256',
  'P-256': 'P-256',
  secp384r1: 'P-384',
  'P-384': 'P-384',
};

/**
 * Classifies a node key (public or private). Anything outside RSA, ECDSA P-256/P-384 and Ed25519 is
 * refused here, so that every encoder downstream can switch on a closed union.
 */
export function describeKey(key: KeyObject): KeyDescription {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa': {
      const { modulusLength, publicExponent } = details;
      if (modulusLength === undefined || publicExponent === undefined) break;
      return { kind: 'rsa', modulusBits: modulusLength, publicExponent };
    }
    case 'ec': {
      const curve = details.namedCurve === undefined ? undefined : CURVES[details.namedCurve];
      if (curve === undefined) {
        throw new PkiError(
          'unsupported_key_type',
          `EC keys on curve ${details.namedCurve ?? '(explicit parameters)'} are not supported; use P-256 or P-384.`,
        );
      }
      return { kind: 'ec', curve };
    }
    case 'ed25519':
      return { kind: 'ed25519' };
  }
  throw new PkiError(
    'unsupported_key_type',
    `Keys of type ${key.asymmetricKeyType ?? 'unknown'} are not supported; use ECDSA P-256, Ed25519 or RSA.`,
  );
}
