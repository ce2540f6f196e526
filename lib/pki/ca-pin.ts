import { createHash, type KeyObject } from 'node:crypto';
import { certificateDer } from './certificate-der.js';
import { certificateSpki } from './certificate-spki.js';
import { canonicalSpkiDer } from './key-encoding.js';

/**
 * Teleport's CA pin: `sha256:` followed by the lowercase hex SHA-256 of the CA certificate's
 * SubjectPublicKeyInfo, hashed exactly as it appears in the certificate. Pinning the key rather than
 * the certificate keeps the pin valid when the CA certificate is re-issued for the same key.
 *
 * @example
 * caPin(caCertificatePem); // 'sha256:9c0f...'
 */
export function caPin(certificatePem: string): string {
  return `sha256:${sha256Hex(certificateSpki(certificateDer(certificatePem)))}`;
}

/**
 * Hex SHA-256 of a key's DER SubjectPublicKeyInfo in canonical form (a private key is reduced to its
 * public half). For a CA certificate issued here, `caPin(cert) === 'sha256:' + spkiSha256Hex(key)`.
 */
export function spkiSha256Hex(publicKey: KeyObject): string {
  return sha256Hex(canonicalSpkiDer(publicKey));
}

function sha256Hex(der: Buffer): string {
  return createHash('sha256').update(der).digest('hex');
}
