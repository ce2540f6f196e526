import { X509Certificate } from 'node:crypto';
import { PkiError } from '../core/errors.js';

const SEQUENCE = 0x30;
const INTEGER = 0x02;
/** `[0] EXPLICIT Version`, absent from v1 certificates. */
const VERSION = 0xa0;

/** One DER tag-length-value: where it starts, where its contents start, where it ends. */
interface Element {
  readonly tag: number;
  readonly start: number;
  readonly contents: number;
  readonly end: number;
}

/**
 * The SubjectPublicKeyInfo of a DER certificate, byte for byte as it is written there: what a CA pin
 * hashes. Node (OpenSSL) parses the certificate first, so only a valid one gets further; then the
 * outer structure is walked to the TBSCertificate field after the subject, checking every tag and
 * length on the way.
 *
 * No ASN.1 library: the agent pins the CA certificates of every TLS handshake, and walking these few
 * elements by hand keeps node-forge out of its start-up.
 */
export function certificateSpki(der: Buffer): Buffer {
  try {
    new X509Certificate(der);
  } catch (cause) {
    throw new PkiError('malformed_certificate', 'The certificate could not be parsed.', { cause });
  }
  const certificate = element(der, 0, der.length, SEQUENCE);
  if (certificate.end !== der.length) throw malformed();
  const tbs = element(der, certificate.contents, certificate.end, SEQUENCE);
  let field = element(der, tbs.contents, tbs.end);
  if (field.tag === VERSION) field = element(der, field.end, tbs.end);
  // serialNumber, signature, issuer, validity and subject come before subjectPublicKeyInfo.
  for (const tag of [INTEGER, SEQUENCE, SEQUENCE, SEQUENCE, SEQUENCE]) {
    if (field.tag !== tag) throw malformed();
    field = element(der, field.end, tbs.end);
  }
  if (field.tag !== SEQUENCE) throw malformed();
  return der.subarray(field.start, field.end);
}

/** The element at `start`, which must end by `limit` and have its length in DER's shortest form. */
function element(der: Buffer, start: number, limit: number, tag?: number): Element {
  if (start + 2 > limit || (tag !== undefined && der[start] !== tag)) throw malformed();
  const lengthByte = der[start + 1] as number;
  let contents = start + 2;
  let length = lengthByte;
  if (lengthByte >= 0x80) {
    // 0x80 is BER's indefinite length; four length bytes already reach 4 GiB.
    const count = lengthByte & 0x7f;
    if (count === 0 || count > 4 || contents + count > limit || der[contents] === 0) throw malformed();
    length = der.readUIntBE(contents, count);
    contents += count;
    if (length < 0x80) throw malformed();
  }
  if (contents + length > limit) throw malformed();
  return { tag: der[start] as number, start, contents, end: contents + length };
}

function malformed(): PkiError {
  return new PkiError('malformed_certificate', 'The certificate does not have the expected ASN.1 structure.');
}
