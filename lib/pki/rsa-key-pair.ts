import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { rememberKeyEncodings } from './key-encoding.js';

/**
 * A fresh RSA key pair (public exponent 65537). OpenSSL's generation job has to draw the primes, so it
 * is asked for the DER encodings only, and the key objects used afterwards are imported from them: on
 * Node 20, a key object that the job itself returned can deadlock the process in its first export or
 * signature (see `ec-key-pair.ts`); one imported from DER never belonged to a job.
 */
export function generateRsaKeyPair(modulusLength: number): { privateKey: KeyObject; publicKey: KeyObject } {
  const encoded = generateKeyPairSync('rsa', {
    modulusLength,
    publicExponent: 0x10001,
    privateKeyEncoding: { type: 'pkcs8', format: 'der' },
    publicKeyEncoding: { type: 'spki', format: 'der' },
  });
  const privateKey = createPrivateKey({ key: encoded.privateKey, format: 'der', type: 'pkcs8' });
  const publicKey = createPublicKey(privateKey);
  rememberKeyEncodings(privateKey, publicKey, { spki: encoded.publicKey, pkcs8: encoded.privateKey });
  return { privateKey, publicKey };
}
