import { createECDH, createPrivateKey, createPublicKey, type ECDH, type KeyObject } from 'node:crypto';
import { EC_SPKI, rememberKeyEncodings } from './key-encoding.js';

const COORDINATE_SIZE = 32;

// PKCS#8 PrivateKeyInfo for a P-256 key, as OpenSSL writes it (RFC 5208, RFC 5915): version 0, the
// id-ecPublicKey/prime256v1 algorithm, then an ECPrivateKey (version 1, the 32-byte scalar, and the
// public point as [1]), up to the bytes of the scalar and between the scalar and the point.
const PKCS8_BEFORE_SCALAR = Buffer.from(
  '308187020100301306072a8648ce3d020106082a8648ce3d030107046d306b0201010420',
  'hex',
);
const PKCS8_BEFORE_POINT = Buffer.from('a144034200', 'hex');

/**
 * A fresh ECDSA P-256 key pair, with its SubjectPublicKeyInfo and PKCS#8 encodings already known
 * (`canonicalSpkiDer` and `privateKeyToPem` then cost nothing).
 *
 * Made from the raw scalar and point of an ECDH key generation (the same OpenSSL generator) instead of
 * `generateKeyPairSync`: on Node 20, exporting (or signing with) a key object that
 * `generateKeyPairSync` has just returned can deadlock the process when a garbage collection runs
 * inside the call (the finished key generation job locks the key's mutex from its finaliser while the
 * call holds it). A bot makes a key on every join and every output, so even a rare hang matters; keys
 * imported from their components never had a generation job. It is also quicker than generating and
 * then exporting the encodings.
 */
export function generateP256KeyPair(): { privateKey: KeyObject; publicKey: KeyObject } {
  const ecdh = createECDH('prime256v1');
  ecdh.generateKeys();
  return p256KeyPairOf(ecdh);
}

/** The key pair of a P-256 ECDH object that holds a key. Exported for tests (chosen scalars). */
export function p256KeyPairOf(ecdh: ECDH): { privateKey: KeyObject; publicKey: KeyObject } {
  // The scalar is an integer: OpenSSL drops its leading zero bytes, the encodings need all 32.
  const scalar = leftPad(ecdh.getPrivateKey());
  const point = ecdh.getPublicKey(); // 0x04 || x || y
  const x = point.subarray(1, 1 + COORDINATE_SIZE);
  const y = point.subarray(1 + COORDINATE_SIZE);
  const jwk = { kty: 'EC', crv: 'P-256', x: x.toString('base64url'), y: y.toString('base64url') };
  const privateKey = createPrivateKey({
    key: { ...jwk, d: scalar.toString('base64url') },
    format: 'jwk',
  });
  const publicKey = createPublicKey(privateKey);
  const spki = Buffer.concat([EC_SPKI['P-256'].prefix, x, y]);
  const pkcs8 = Buffer.concat([PKCS8_BEFORE_SCALAR, scalar, PKCS8_BEFORE_POINT, point]);
  rememberKeyEncodings(privateKey, publicKey, { spki, pkcs8 });
  return { privateKey, publicKey };
}

function leftPad(bytes: Buffer): Buffer {
  if (bytes.length === COORDINATE_SIZE) return bytes;
  return Buffer.concat([Buffer.alloc(COORDINATE_SIZE - bytes.length), bytes]);
}
