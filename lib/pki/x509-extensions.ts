import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { PkiError } from '../core/errors.js';
import {
  type Asn1Node,
  bitString,
  boolean,
  booleanValue,
  bytesOf,
  childrenOf,
  implicitPrimitive,
  objectIdentifier,
  octetString,
  oidOf,
  parseDer,
  sequence,
  smallInteger,
  toDer,
} from './der.js';

/**
 * The X.509 v3 extensions this system issues, one builder each, and the few it reads back from an
 * issuer certificate. Nothing else is ever put in a certificate.
 */

export type KeyUsage = 'digitalSignature' | 'keyEncipherment' | 'keyCertSign' | 'cRLSign';
export type ExtendedKeyUsage = 'serverAuth' | 'clientAuth';

export const OID_BASIC_CONSTRAINTS = '2.5.29.19';
export const OID_KEY_USAGE = '2.5.29.15';
export const OID_EXTENDED_KEY_USAGE = '2.5.29.37';
export const OID_SUBJECT_ALT_NAME = '2.5.29.17';
export const OID_SUBJECT_KEY_IDENTIFIER = '2.5.29.14';
export const OID_AUTHORITY_KEY_IDENTIFIER = '2.5.29.35';

// Bit positions from RFC 5280 4.2.1.3.
const KEY_USAGE_BITS: Record<KeyUsage, number> = {
  digitalSignature: 0,
  keyEncipherment: 2,
  keyCertSign: 5,
  cRLSign: 6,
};

const EXTENDED_KEY_USAGE_OIDS: Record<ExtendedKeyUsage, string> = {
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
};

const MAX_NAMES = 100;
const MAX_URI_LENGTH = 2048;

function extension(oid: string, critical: boolean, value: Asn1Node): Asn1Node {
  // DER omits a BOOLEAN that equals its DEFAULT (FALSE).
  return sequence([objectIdentifier(oid), ...(critical ? [boolean(true)] : []), octetString(toDer(value))]);
}

/** Critical. A leaf gets an empty SEQUENCE, which every tool shows as `CA:FALSE`. */
export function basicConstraintsExtension(isCa: boolean, pathLength: number | undefined): Asn1Node {
  if (pathLength !== undefined) {
    if (!isCa) {
      throw new PkiError(
        'invalid_template',
        'pathLength only applies to CA certificates; remove it or set isCa.',
      );
    }
    if (!Number.isInteger(pathLength) || pathLength < 0 || pathLength > 16) {
      throw new PkiError(
        'invalid_template',
        `pathLength must be an integer from 0 to 16; got ${pathLength}.`,
      );
    }
  }
  const fields = isCa ? [boolean(true), ...(pathLength === undefined ? [] : [smallInteger(pathLength)])] : [];
  return extension(OID_BASIC_CONSTRAINTS, true, sequence(fields));
}

/** Critical, with exactly the bits asked for, as a DER named bit list (trailing zero bits dropped). */
export function keyUsageExtension(usages: readonly KeyUsage[]): Asn1Node {
  if (!isNonEmptyArray(usages)) {
    throw new PkiError('invalid_template', 'keyUsage must name at least one usage.');
  }
  let byte = 0;
  for (const usage of usages) {
    const bit = KEY_USAGE_BITS[usage] as number | undefined;
    if (bit === undefined) {
      throw new PkiError(
        'invalid_template',
        `Unknown key usage "${String(usage)}"; use ${Object.keys(KEY_USAGE_BITS).join(', ')}.`,
      );
    }
    byte |= 0x80 >> bit;
  }
  let unused = 0;
  while (((byte >> unused) & 1) === 0) unused++;
  return extension(OID_KEY_USAGE, true, bitString(Buffer.from([byte]), unused));
}

/** Not critical (RFC 5280 leaves it to the issuer; browsers, Go and OpenSSL enforce it either way). */
export function extendedKeyUsageExtension(purposes: readonly ExtendedKeyUsage[]): Asn1Node {
  if (!isNonEmptyArray(purposes)) {
    // An absent extension means "any purpose", so an empty list must not quietly become that.
    throw new PkiError(
      'invalid_template',
      'extendedKeyUsage must name at least one purpose (serverAuth, clientAuth), or be left out.',
    );
  }
  const oids = [...new Set(purposes)].map((purpose) => {
    const oid = EXTENDED_KEY_USAGE_OIDS[purpose] as string | undefined;
    if (oid === undefined) {
      throw new PkiError(
        'invalid_template',
        `Unknown extended key usage "${String(purpose)}"; use serverAuth or clientAuth.`,
      );
    }
    return objectIdentifier(oid);
  });
  return extension(OID_EXTENDED_KEY_USAGE, false, sequence(oids));
}

export interface SubjectAltNames {
  dnsNames?: string[] | undefined;
  ipAddresses?: string[] | undefined;
  uris?: string[] | undefined;
}

/** Not critical (the subject always has a CN). Undefined when there are no names. */
export function subjectAltNameExtension(names: SubjectAltNames): Asn1Node | undefined {
  const dnsNames = unique(names.dnsNames, 'dnsNames');
  const ipAddresses = unique(names.ipAddresses, 'ipAddresses');
  const uris = unique(names.uris, 'uris');
  if (dnsNames.length + ipAddresses.length + uris.length > MAX_NAMES) {
    throw new PkiError('invalid_name', `A certificate may carry at most ${MAX_NAMES} alternative names.`);
  }
  const generalNames = [
    ...dnsNames.map((name) => implicitPrimitive(2, Buffer.from(checkDnsName(name), 'ascii'))),
    ...ipAddresses.map((ip) => implicitPrimitive(7, ipAddressBytes(ip))),
    ...uris.map((uri) => implicitPrimitive(6, Buffer.from(checkUri(uri), 'ascii'))),
  ];
  return generalNames.length === 0
    ? undefined
    : extension(OID_SUBJECT_ALT_NAME, false, sequence(generalNames));
}

export function subjectKeyIdentifierExtension(keyId: Buffer): Asn1Node {
  return extension(OID_SUBJECT_KEY_IDENTIFIER, false, octetString(keyId));
}

/** Only the keyIdentifier form: naming the issuer by name+serial would break on CA re-issuance. */
export function authorityKeyIdentifierExtension(keyId: Buffer): Asn1Node {
  return extension(OID_AUTHORITY_KEY_IDENTIFIER, false, sequence([implicitPrimitive(0, keyId)]));
}

/**
 * RFC 5280 4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING contents. SHA-1 is only a
 * naming hash here (the same one OpenSSL uses), so chain builders match our certificates either way.
 */
export function keyIdentifier(spkiDer: Buffer): Buffer {
  const [, subjectPublicKey] = childrenOf(
    parseDer(spkiDer, 'malformed_public_key', 'public key'),
    'malformed_public_key',
    'public key',
  );
  const bits = bytesOf(subjectPublicKey, 'malformed_public_key', 'public key');
  return createHash('sha1').update(bits.subarray(1)).digest();
}

/** What issuance needs to know about the extensions of an issuer certificate. */
export interface IssuerExtensions {
  isCa: boolean;
  pathLength: number | undefined;
  canSignCertificates: boolean;
  subjectKeyIdentifier: Buffer | undefined;
}

export function readIssuerExtensions(extensions: Asn1Node[]): IssuerExtensions {
  const code = 'invalid_issuer';
  const what = 'issuer certificate extension';
  const result: IssuerExtensions = {
    isCa: false,
    pathLength: undefined,
    canSignCertificates: false,
    subjectKeyIdentifier: undefined,
  };
  let sawKeyUsage = false;
  for (const ext of extensions) {
    const fields = childrenOf(ext, code, what);
    const oid = oidOf(fields[0], code, what);
    const value = parseDer(bytesOf(fields[fields.length - 1], code, what), code, what);
    if (oid === OID_BASIC_CONSTRAINTS) {
      const [first, second] = childrenOf(value, code, what);
      const isCa = booleanValue(first);
      if (isCa !== undefined) {
        result.isCa = isCa;
        if (second !== undefined) {
          result.pathLength = Number.parseInt(bytesOf(second, code, what).toString('hex'), 16);
        }
      }
    } else if (oid === OID_KEY_USAGE) {
      sawKeyUsage = true;
      const bits = bytesOf(value, code, what);
      result.canSignCertificates = ((bits[1] ?? 0) & (0x80 >> KEY_USAGE_BITS.keyCertSign)) !== 0;
    } else if (oid === OID_SUBJECT_KEY_IDENTIFIER) {
      result.subjectKeyIdentifier = bytesOf(value, code, what);
    }
  }
  // Without a keyUsage extension a CA may sign anything (RFC 5280 4.2.1.3).
  if (!sawKeyUsage) result.canSignCertificates = result.isCa;
  return result;
}

function isNonEmptyArray<T>(values: readonly T[]): boolean {
  return Array.isArray(values) && values.length > 0;
}

function unique(values: string[] | undefined, field: string): string[] {
  if (values === undefined) return [];
  if (!Array.isArray(values)) {
    throw new PkiError('invalid_name', `${field} must be an array of strings.`);
  }
  return [...new Set(values)];
}

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

/** An LDH host name, optionally with a `*` as the whole leftmost label, at most 253 characters. */
export function checkDnsName(name: unknown): string {
  const refuse = (why: string) =>
    new PkiError('invalid_name', `The DNS name ${JSON.stringify(name)} is not valid: ${why}.`);
  if (typeof name !== 'string' || name.length === 0) throw refuse('it must be a non-empty string');
  if (name.length > 253) throw refuse('it is longer than 253 characters');
  if (isIP(name) !== 0) throw refuse('it is an IP address; put it in ipAddresses instead');
  const labels = name.split('.');
  const [first, ...rest] = labels;
  const wildcard = first === '*';
  if (wildcard && rest.length < 2) throw refuse('a wildcard must be followed by at least two labels');
  for (const label of wildcard ? rest : labels) {
    if (!DNS_LABEL.test(label)) {
      throw refuse(
        'each label must be 1-63 letters, digits or hyphens, not starting or ending with a hyphen',
      );
    }
  }
  return name;
}

/** The 4 or 16 octets of an IP address in its textual form. */
export function ipAddressBytes(ip: unknown): Buffer {
  const version = typeof ip === 'string' && !ip.includes('%') ? isIP(ip) : 0;
  if (typeof ip !== 'string' || version === 0) {
    throw new PkiError(
      'invalid_name',
      `The IP address ${JSON.stringify(ip)} is not a valid IPv4 or IPv6 address (zone ids are not allowed).`,
    );
  }
  if (version === 4) return Buffer.from(ip.split('.').map(Number));
  const groups = (part: string) =>
    part === ''
      ? []
      : part.split(':').flatMap((group) => {
          if (!group.includes('.')) return [Number.parseInt(group, 16)];
          const [a = 0, b = 0, c = 0, d = 0] = group.split('.').map(Number);
          return [(a << 8) | b, (c << 8) | d];
        });
  const [head = '', tail] = ip.split('::');
  const headGroups = groups(head);
  const tailGroups = tail === undefined ? [] : groups(tail);
  const zeros = new Array<number>(8 - headGroups.length - tailGroups.length).fill(0);
  const bytes = Buffer.alloc(16);
  for (const [i, group] of [...headGroups, ...zeros, ...tailGroups].entries()) {
    bytes.writeUInt16BE(group, i * 2);
  }
  return bytes;
}

/** An absolute URI in printable ASCII (IA5String cannot carry anything else). */
export function checkUri(uri: unknown): string {
  if (
    typeof uri !== 'string' ||
    uri.length === 0 ||
    uri.length > MAX_URI_LENGTH ||
    !/^[\x21-\x7e]+$/.test(uri)
  ) {
    throw new PkiError(
      'invalid_name',
      `The URI ${JSON.stringify(uri)} must be 1-${MAX_URI_LENGTH} printable ASCII characters without spaces; percent-encode anything else.`,
    );
  }
  let scheme = '';
  try {
    scheme = new URL(uri).protocol;
  } catch {
    // handled below
  }
  if (!/^[a-z][a-z0-9+.-]*:$/.test(scheme)) {
    throw new PkiError(
      'invalid_name',
      `The URI ${JSON.stringify(uri)} is not an absolute URI with a scheme.`,
    );
  }
  return uri;
}
