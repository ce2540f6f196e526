import type forge from 'node-forge';
import asn1 from 'node-forge/lib/asn1.js';
import { PkiError } from '../core/errors.js';

/**
 * Small typed helpers over node-forge's ASN.1 layer. forge works on "binary strings" (one char per
 * byte); everything here takes and returns Buffers so that the rest of `lib/pki` never sees them.
 */

export type Asn1Node = forge.asn1.Asn1;

const UNIVERSAL = asn1.Class.UNIVERSAL;
const CONTEXT = asn1.Class.CONTEXT_SPECIFIC;

export function toDer(node: Asn1Node): Buffer {
  return Buffer.from(asn1.toDer(node).getBytes(), 'binary');
}

export function sequence(children: Asn1Node[]): Asn1Node {
  return asn1.create(UNIVERSAL, asn1.Type.SEQUENCE, true, children);
}

/** A SET with its members in DER order (sorted by their encoding), as DER requires for SET OF. */
export function set(children: Asn1Node[]): Asn1Node {
  const sorted = [...children].sort((a, b) => Buffer.compare(toDer(a), toDer(b)));
  return asn1.create(UNIVERSAL, asn1.Type.SET, true, sorted);
}

export function objectIdentifier(oid: string): Asn1Node {
  return asn1.create(UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(oid).getBytes());
}

export function utf8String(value: string): Asn1Node {
  return asn1.create(UNIVERSAL, asn1.Type.UTF8, false, Buffer.from(value, 'utf8').toString('binary'));
}

export function octetString(value: Buffer): Asn1Node {
  return asn1.create(UNIVERSAL, asn1.Type.OCTETSTRING, false, value.toString('binary'));
}

export function boolean(value: boolean): Asn1Node {
  return asn1.create(UNIVERSAL, asn1.Type.BOOLEAN, false, value ? '\xff' : '\x00');
}

export function nullValue(): Asn1Node {
  return asn1.create(UNIVERSAL, asn1.Type.NULL, false, '');
}

/** A non-negative INTEGER from its unsigned big-endian magnitude, minimally encoded. */
export function unsignedInteger(magnitude: Buffer): Asn1Node {
  return asn1.create(UNIVERSAL, asn1.Type.INTEGER, false, minimalUnsigned(magnitude).toString('binary'));
}

export function smallInteger(value: number): Asn1Node {
  return asn1.create(UNIVERSAL, asn1.Type.INTEGER, false, asn1.integerToDer(value).getBytes());
}

/**
 * The DER content octets of a non-negative INTEGER: leading zero bytes dropped, then one 0x00 put back
 * when the first byte has its high bit set (otherwise the value would read as negative).
 */
export function minimalUnsigned(magnitude: Buffer): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  if (trimmed.length === 0) return Buffer.from([0]);
  return (trimmed[0]! & 0x80) !== 0 ? Buffer.concat([Buffer.from([0]), trimmed]) : Buffer.from(trimmed);
}

export function bitString(content: Buffer, unusedBits = 0): Asn1Node {
  return asn1.create(
    UNIVERSAL,
    asn1.Type.BITSTRING,
    false,
    Buffer.concat([Buffer.from([unusedBits]), content]).toString('binary'),
  );
}

/** `[tag] EXPLICIT`: a constructed context-specific wrapper around one value. */
export function explicitTag(tag: number, child: Asn1Node): Asn1Node {
  return asn1.create(CONTEXT, tag as forge.asn1.Type, true, [child]);
}

/** `[tag] IMPLICIT` for a primitive type: the content octets under a context-specific tag. */
export function implicitPrimitive(tag: number, content: Buffer): Asn1Node {
  return asn1.create(CONTEXT, tag as forge.asn1.Type, false, content.toString('binary'));
}

/**
 * RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime from 2050, always in UTC with seconds and
 * no fraction. Sub-second precision is dropped (the caller's dates are truncated, never extended).
 */
export function time(date: Date): Asn1Node {
  const year = date.getUTCFullYear();
  if (year < 1950 || year > 9999) {
    throw new PkiError(
      'invalid_validity',
      `Certificate dates must fall between the years 1950 and 9999; got ${date.toISOString()}.`,
    );
  }
  const two = (n: number) => String(n).padStart(2, '0');
  const rest =
    two(date.getUTCMonth() + 1) +
    two(date.getUTCDate()) +
    two(date.getUTCHours()) +
    two(date.getUTCMinutes()) +
    two(date.getUTCSeconds()) +
    'Z';
  if (year < 2050) {
    return asn1.create(UNIVERSAL, asn1.Type.UTCTIME, false, two(year % 100) + rest);
  }
  return asn1.create(UNIVERSAL, asn1.Type.GENERALIZEDTIME, false, String(year) + rest);
}

/**
 * Parses DER strictly: every byte consumed, BIT STRING contents left opaque, and the re-encoding must
 * give back the very same bytes. The last check is what lets callers copy a parsed part (an issuer
 * Name, a SubjectPublicKeyInfo) byte for byte into another structure.
 */
export function parseDer(der: Buffer, code: string, what: string): Asn1Node {
  let node: Asn1Node;
  try {
    node = (asn1.fromDer as unknown as (bytes: string, options: object) => Asn1Node)(der.toString('binary'), {
      strict: true,
      parseAllBytes: true,
      decodeBitStrings: false,
    });
  } catch (cause) {
    throw new PkiError(code, `The ${what} is not valid DER; supply a DER/PEM encoded ${what}.`, { cause });
  }
  if (!toDer(node).equals(der)) {
    throw new PkiError(code, `The ${what} is not in canonical DER form; re-encode it as DER.`);
  }
  return node;
}

/** The children of a constructed node, or a clear error if the structure is not what was expected. */
export function childrenOf(node: Asn1Node | undefined, code: string, what: string): Asn1Node[] {
  if (node === undefined || !Array.isArray(node.value)) {
    throw new PkiError(code, `The ${what} does not have the expected ASN.1 structure.`);
  }
  return node.value;
}

/** The content octets of a primitive node. */
export function bytesOf(node: Asn1Node | undefined, code: string, what: string): Buffer {
  if (node === undefined || typeof node.value !== 'string') {
    throw new PkiError(code, `The ${what} does not have the expected ASN.1 structure.`);
  }
  return Buffer.from(node.value, 'binary');
}

/** The value of a BOOLEAN node, or undefined when the node is something else. */
export function booleanValue(node: Asn1Node | undefined): boolean | undefined {
  if (node === undefined || node.tagClass !== UNIVERSAL || node.type !== asn1.Type.BOOLEAN) return undefined;
  return node.value !== '\x00';
}

export function isContextTag(node: Asn1Node | undefined, tag: number): boolean {
  return node !== undefined && node.tagClass === CONTEXT && node.type === tag;
}

export function oidOf(node: Asn1Node | undefined, code: string, what: string): string {
  if (node === undefined || node.tagClass !== UNIVERSAL || node.type !== asn1.Type.OID) {
    throw new PkiError(code, `The ${what} does not have the expected ASN.1 structure.`);
  }
  return asn1.derToOid(bytesOf(node, code, what).toString('binary'));
}
