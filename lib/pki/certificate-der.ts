import { PkiError } from '../core/errors.js';
import { decodePemBlock } from './pem.js';

const MAX_CERTIFICATE_PEM = 64 * 1024;

/** The DER of one "CERTIFICATE" PEM block. */
export function certificateDer(pem: string): Buffer {
  if (typeof pem !== 'string' || pem.length > MAX_CERTIFICATE_PEM) {
    throw new PkiError(
      'malformed_certificate',
      `A certificate PEM must be a string of at most ${MAX_CERTIFICATE_PEM} characters.`,
    );
  }
  const { label, der } = decodePemBlock(pem, 'malformed_certificate', 'certificate');
  if (label !== 'CERTIFICATE') {
    throw new PkiError('malformed_certificate', `Expected a "CERTIFICATE" PEM block but got "${label}".`);
  }
  return der;
}
