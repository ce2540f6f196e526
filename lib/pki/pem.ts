import { PkiError } from '../core/errors.js';

/** A PEM block as OpenSSL writes it: 64-column base64 between BEGIN/END lines, ending in a newline. */
export function encodePem(label: string, der: Buffer): string {
  const body = der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return `-----BEGIN ${label}-----\n${body}\n-----END ${label}-----\n`;
}

export interface PemBlock {
  label: string;
  der: Buffer;
}

const BLOCK = /^-----BEGIN ([A-Z0-9 ]+)-----\r?\n([A-Za-z0-9+/=\r\n]*?)\r?\n?-----END ([A-Z0-9 ]+)-----$/;

/**
 * Reads exactly one PEM block, strictly: no headers (so no legacy encrypted PEM), no text around it
 * other than whitespace, canonical base64. `code` and `what` name the thing in the error.
 */
export function decodePemBlock(text: string, code: string, what: string): PemBlock {
  const match = BLOCK.exec(text.trim());
  if (match === null) {
    throw new PkiError(
      code,
      `The ${what} is not a single PEM block ("-----BEGIN ...-----" base64 "-----END ...-----" with nothing else around it).`,
    );
  }
  const [, label = '', body = '', endLabel] = match;
  if (label !== endLabel) {
    throw new PkiError(code, `The ${what} PEM block starts with "${label}" but ends with "${endLabel}".`);
  }
  const base64 = body.replace(/\r?\n/g, '');
  const der = Buffer.from(base64, 'base64');
  if (base64.length === 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(base64) || der.toString('base64') !== base64) {
    throw new PkiError(code, `The ${what} PEM block does not contain valid base64.`);
  }
  return { label, der };
}
