import { createPublicKey, type KeyObject } from 'node:crypto';
import { PkiError } from '../core/errors.js';
import { canonicalSpkiDer, EC_SPKI } from './key-encoding.js';
import { decodePemBlock } from './pem.js';

/** Far above any accepted key (an RSA-8192 SPKI PEM is about 1.5 KiB) and small enough to bound parsing. */
export const MAX_SUBJECT_PUBLIC_KEY_PEM = 8 * 1024;

const MIN_RSA_BITS = 2048;
// Above this, verifying with the key costs the server time for no security gain.
const MAX_RSA_BITS = 8192;
const ALLOWED_CURVES: Record<string, string> = { prime256v1: 'P-256', secp384r1: 'P-384' };

/**
 * Validates a public key sent by a client (PEM SubjectPublicKeyInfo, "BEGIN PUBLIC KEY") before a
 * certificate is issued for it. Accepted: RSA 2048-8192 bits with exponent 65537, ECDSA P-256 and
 * P-384. Refused, each with a stable code: anything malformed or not a lone public key
 * (`malformed_public_key`), a private key (`private_key_not_accepted`), weak RSA (`weak_public_key`),
 * and every other algorithm or curve, Ed25519 and DSA included (`unsupported_public_key`).
 *
 * Ed25519 is refused because the subject key also authenticates TLS clients, where Ed25519
 * certificates are not widely accepted; the SSH-only CA keys are the server's own.
 *
 * @example
 * const key = parseSubjectPublicKey(body.publicKey); // throws PkiError on anything doubtful
 */
export function parseSubjectPublicKey(pem: string): KeyObject {
  if (typeof pem !== 'string' || pem.length === 0) {
    throw new PkiError('malformed_public_key', 'The public key is missing; send it as a "PUBLIC KEY" PEM.');
  }
  if (pem.length > MAX_SUBJECT_PUBLIC_KEY_PEM) {
    throw new PkiError(
      'malformed_public_key',
      `The public key is ${pem.length} characters long, over the ${MAX_SUBJECT_PUBLIC_KEY_PEM} limit; send one "PUBLIC KEY" PEM block.`,
    );
  }
  // Checked before parsing: node would happily derive a public key from a private one.
  if (/PRIVATE KEY/.test(pem)) {
    throw new PkiError(
      'private_key_not_accepted',
      'A private key was sent where a public key was expected. Never send private keys; send the "PUBLIC KEY" PEM (`openssl pkey -pubout`).',
    );
  }
  const { label, der } = decodePemBlock(pem, 'malformed_public_key', 'public key');
  if (label !== 'PUBLIC KEY') {
    throw new PkiError(
      'malformed_public_key',
      `Expected a "PUBLIC KEY" (SubjectPublicKeyInfo) PEM block but got "${label}"; convert it with \`openssl pkey -pubin -pubout\`.`,
    );
  }
  let key: KeyObject;
  try {
    key = importCanonicalEcKey(der) ?? createPublicKey({ key: der, format: 'der', type: 'spki' });
  } catch (cause) {
    throw new PkiError(
      'malformed_public_key',
      'The "PUBLIC KEY" PEM block does not hold a valid public key.',
      {
        cause,
      },
    );
  }
  checkAlgorithm(key);
  // Only the canonical encoding: this refuses explicit curve parameters, compressed points and other
  // alternative encodings that tools disagree about.
  if (!canonicalSpkiDer(key).equals(der)) {
    throw new PkiError(
      'malformed_public_key',
      'The public key is not in canonical SubjectPublicKeyInfo form (named curve, uncompressed point); re-export it with `openssl pkey -pubin -pubout`.',
    );
  }
  return key;
}

function checkAlgorithm(key: KeyObject): void {
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa': {
      const bits = details.modulusLength ?? 0;
      if (bits < MIN_RSA_BITS) {
        throw new PkiError(
          'weak_public_key',
          `RSA keys must have at least ${MIN_RSA_BITS} bits; this one has ${bits}. Generate a new key (ECDSA P-256 or RSA-2048 or larger).`,
        );
      }
      if (bits > MAX_RSA_BITS) {
        throw new PkiError(
          'unsupported_public_key',
          `RSA keys may have at most ${MAX_RSA_BITS} bits; this one has ${bits}.`,
        );
      }
      if (details.publicExponent !== 65537n) {
        throw new PkiError(
          'weak_public_key',
          `RSA keys must use the public exponent 65537; this one uses ${String(details.publicExponent)}.`,
        );
      }
      return;
    }
    case 'ec': {
      const curve = details.namedCurve;
      if (curve === undefined || ALLOWED_CURVES[curve] === undefined) {
        throw new PkiError(
          'unsupported_public_key',
          `EC keys must be on P-256 or P-384; this one is on ${curve ?? 'a curve given by explicit parameters'}.`,
        );
      }
      return;
    }
    default:
      throw new PkiError(
        'unsupported_public_key',
        `Public keys of type ${key.asymmetricKeyType ?? 'unknown'} are not accepted; use ECDSA P-256 (preferred), P-384 or RSA-2048 or larger.`,
      );
  }
}

/**
 * The common case, a canonical P-256/P-384 key, is imported from its coordinates: OpenSSL 3's DER
 * decoder costs more than a signature, the JWK path (which still checks the point is on the curve)
 * about half of that. Anything else goes through the DER decoder.
 */
function importCanonicalEcKey(der: Buffer): KeyObject | undefined {
  for (const curve of ['P-256', 'P-384'] as const) {
    const { prefix, coordinateSize } = EC_SPKI[curve];
    if (der.length === prefix.length + 2 * coordinateSize && der.subarray(0, prefix.length).equals(prefix)) {
      const point = der.subarray(prefix.length);
      return createPublicKey({
        key: {
          kty: 'EC',
          crv: curve,
          x: point.subarray(0, coordinateSize).toString('base64url'),
          y: point.subarray(coordinateSize).toString('base64url'),
        },
        format: 'jwk',
      });
    }
  }
  return undefined;
}
