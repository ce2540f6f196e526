import { createPrivateKey, createPublicKey, type KeyObject, randomBytes } from 'node:crypto';
import { rememberKeyEncodings } from './key-encoding.js';

// RFC 8410: PKCS#8 PrivateKeyInfo { version 0, id-Ed25519, OCTET STRING { OCTET STRING seed } } and
// SubjectPublicKeyInfo { id-Ed25519, BIT STRING key }, up to the 32 key bytes.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

/**
 * A fresh Ed25519 key pair from 32 random bytes (an Ed25519 private key is exactly that seed), imported
 * instead of made by `generateKeyPairSync`, for the reason `ec-key-pair.ts` gives: on Node 20 a key that
 * `generateKeyPairSync` has just made can deadlock the process in its first export or signature. Its
 * PKCS#8 and SPKI bytes are known from the start.
 */
export function generateEd25519KeyPair(): { privateKey: KeyObject; publicKey: KeyObject } {
  const pkcs8 = Buffer.concat([PKCS8_PREFIX, randomBytes(32)]);
  const privateKey = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey(privateKey);
  const spki = Buffer.concat([
    SPKI_PREFIX,
    Buffer.from(publicKey.export({ format: 'jwk' }).x ?? '', 'base64url'),
  ]);
  rememberKeyEncodings(privateKey, publicKey, { spki, pkcs8 });
  return { privateKey, publicKey };
}
