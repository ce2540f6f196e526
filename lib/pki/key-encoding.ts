import { createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { PkiError } from '../core/errors.js';
import { describeKey } from './key-description.js';
import { decodePemBlock, encodePem } from './pem.js';

/**
 * Unencrypted PKCS#8 PEM ("BEGIN PRIVATE KEY"). OpenSSH reads private keys through OpenSSL's generic
 * PEM reader, so `ssh -i`/`ssh-keygen -y` take PKCS#8 for ECDSA and RSA just as curl, openssl and Go do;
 * the tests check this with the real tools. (OpenSSH does not take PKCS#8 Ed25519 keys, which is one
 * reason why no suite uses Ed25519 for subject keys.)
 */
export function privateKeyToPem(key: KeyObject): string {
  if (key.type !== 'private') {
    throw new PkiError('not_a_private_key', `Expected a private key but got a ${key.type} key.`);
  }
  const known = pkcs8Cache.get(key);
  if (known !== undefined) return encodePem('PRIVATE KEY', known);
  return key.export({ type: 'pkcs8', format: 'pem' }) as string;
}

/** SubjectPublicKeyInfo PEM ("BEGIN PUBLIC KEY"). A private key is accepted and its public half written. */
export function publicKeyToPem(key: KeyObject): string {
  return encodePem('PUBLIC KEY', canonicalSpkiDer(key));
}

/**
 * The DER SubjectPublicKeyInfo in the one form every tool reads the same way: EC keys with a named
 * curve and an uncompressed point, whatever form the key was loaded from (node keeps the original
 * one). A private key is reduced to its public half.
 *
 * Built from the key's JWK rather than with `export({ type: 'spki' })`: with OpenSSL 3 the DER export
 * costs about 100 µs, more than signing the certificate, and the JWK is canonical by construction.
 */
export function canonicalSpkiDer(key: KeyObject): Buffer {
  const cached = spkiCache.get(key);
  if (cached !== undefined) return cached;
  const publicKey = key.type === 'private' ? createPublicKey(key) : key;
  if (publicKey.type !== 'public') {
    throw new PkiError('not_a_public_key', `Expected a public or private key but got a ${key.type} key.`);
  }
  const description = describeKey(publicKey);
  // EC keys are rebuilt from their coordinates (named curve, uncompressed point); RSA and Ed25519 have
  // only one DER form. Building the bytes directly avoids re-importing a JWK, the slowest step of issuance.
  const der =
    description.kind === 'ec'
      ? ecSpkiDer(description.curve, publicKey.export({ format: 'jwk' }))
      : publicKey.export({ type: 'spki', format: 'der' });
  spkiCache.set(key, der);
  return der;
}

/** Keys are immutable, so their encoding can be kept for as long as the key object lives. */
const spkiCache = new WeakMap<KeyObject, Buffer>();
/** PKCS#8 DER of private keys whose maker knew it (`ec-key-pair.ts`, `ed25519-key-pair.ts`, `rsa-key-pair.ts`). */
const pkcs8Cache = new WeakMap<KeyObject, Buffer>();

/**
 * Records the encodings of a key pair that its maker already has, so that the encoders above need not
 * export them again. They must be exactly what node would export (tests compare).
 */
export function rememberKeyEncodings(
  privateKey: KeyObject,
  publicKey: KeyObject,
  encodings: { spki: Buffer; pkcs8: Buffer },
): void {
  spkiCache.set(privateKey, encodings.spki);
  spkiCache.set(publicKey, encodings.spki);
  pkcs8Cache.set(privateKey, encodings.pkcs8);
}

function ecSpkiDer(curve: 'P-256' | 'P-384', jwk: JsonWebKey): Buffer {
  const { prefix, coordinateSize } = EC_SPKI[curve];
  const coordinate = (value: string | undefined) => {
    const bytes = Buffer.from(value ?? '', 'base64url');
    return Buffer.concat([Buffer.alloc(Math.max(0, coordinateSize - bytes.length)), bytes]);
  };
  return Buffer.concat([prefix, coordinate(jwk.x), coordinate(jwk.y)]);
}

// Everything before the key bytes: SEQUENCE { SEQUENCE { algorithm, curve }, BIT STRING header }, up
// to and including the 0x04 that marks an uncompressed point (RFC 5480, RFC 8410).
export const EC_SPKI = {
  'P-256': {
    prefix: Buffer.from('3059301306072a8648ce3d020106082a8648ce3d03010703420004', 'hex'),
    coordinateSize: 32,
  },
  'P-384': {
    prefix: Buffer.from('3076301006072a8648ce3d020106052b8104002203620004', 'hex'),
    coordinateSize: 48,
  },
};

const MAX_PRIVATE_KEY_PEM = 16 * 1024;

const DER_TYPES: Record<string, 'pkcs8' | 'sec1' | 'pkcs1'> = {
  'PRIVATE KEY': 'pkcs8',
  'EC PRIVATE KEY': 'sec1',
  'RSA PRIVATE KEY': 'pkcs1',
};

/**
 * Reads an unencrypted private key in PKCS#8, SEC1 or PKCS#1 PEM, of a type `lib/pki` supports.
 * Encrypted keys and OpenSSH-format keys are refused with instructions to convert them.
 */
export function parsePrivateKeyPem(pem: string): KeyObject {
  if (typeof pem !== 'string' || pem.length > MAX_PRIVATE_KEY_PEM) {
    throw new PkiError(
      'malformed_private_key',
      `A private key PEM must be a string of at most ${MAX_PRIVATE_KEY_PEM} characters.`,
    );
  }
  const { label, der } = decodePemBlock(pem, 'malformed_private_key', 'private key');
  if (label === 'ENCRYPTED PRIVATE KEY') {
    throw new PkiError(
      'encrypted_private_key',
      'The private key is encrypted; store it unencrypted (the secret store protects it), e.g. `openssl pkey -in key.pem -out plain.pem`.',
    );
  }
  if (label === 'OPENSSH PRIVATE KEY') {
    throw new PkiError(
      'unsupported_private_key',
      'OpenSSH-format private keys are not read; convert with `ssh-keygen -p -m PKCS8 -f <file>`.',
    );
  }
  const type = DER_TYPES[label];
  if (type === undefined) {
    throw new PkiError(
      'malformed_private_key',
      `Expected a "PRIVATE KEY", "EC PRIVATE KEY" or "RSA PRIVATE KEY" PEM block but got "${label}".`,
    );
  }
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: der, format: 'der', type });
  } catch (cause) {
    throw new PkiError('malformed_private_key', `The "${label}" PEM block does not hold a valid key.`, {
      cause,
    });
  }
  describeKey(key);
  return key;
}
