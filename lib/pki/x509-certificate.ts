import { KeyObject, X509Certificate } from 'node:crypto';
import asn1 from 'node-forge/lib/asn1.js';
import { PkiError } from '../core/errors.js';
import { certificateDer } from './certificate-der.js';
import {
  type Asn1Node,
  bitString,
  bytesOf,
  childrenOf,
  explicitTag,
  isContextTag,
  minimalUnsigned,
  parseDer,
  sequence,
  smallInteger,
  time,
  toDer,
  unsignedInteger,
} from './der.js';
import { describeKey } from './key-description.js';
import { canonicalSpkiDer } from './key-encoding.js';
import { encodePem } from './pem.js';
import {
  authorityKeyIdentifierExtension,
  basicConstraintsExtension,
  type ExtendedKeyUsage,
  extendedKeyUsageExtension,
  type IssuerExtensions,
  type KeyUsage,
  keyIdentifier,
  keyUsageExtension,
  readIssuerExtensions,
  subjectAltNameExtension,
  subjectKeyIdentifierExtension,
} from './x509-extensions.js';
import { type DistinguishedName, encodeDistinguishedName } from './x509-name.js';
import { signatureAlgorithmFor } from './x509-signature-algorithm.js';

export type { ExtendedKeyUsage, KeyUsage } from './x509-extensions.js';
export type { DistinguishedName } from './x509-name.js';

/** Everything that goes into a certificate. The issuer's name and key identifier come from the issuer. */
export interface CertificateTemplate {
  /** At least 16 random bytes (RFC 5280 allows at most 20 octets once encoded). */
  serial: Buffer;
  subject: DistinguishedName;
  /** Truncated to whole seconds. */
  notBefore: Date;
  /** Truncated to whole seconds; must not be later than the issuer's own notAfter. */
  notAfter: Date;
  /** The subject's public key. */
  publicKey: KeyObject;
  isCa: boolean;
  /** Only for CAs. @default no limit */
  pathLength?: number;
  /** Exactly the usages to assert; `keyCertSign` for CAs only, `keyEncipherment` for RSA keys only. */
  keyUsage: KeyUsage[];
  /** @default no extendedKeyUsage extension */
  extendedKeyUsage?: ExtendedKeyUsage[];
  /** @default none */
  dnsNames?: string[];
  /** @default none */
  ipAddresses?: string[];
  /** @default none */
  uris?: string[];
}

/** A CA that signs: its certificate and the matching private key. */
export interface CertificateIssuer {
  certificatePem: string;
  privateKey: KeyObject;
}

/** Sign the certificate with the private key of its own subject (a root CA). */
export interface SelfSignedIssuer {
  selfSigned: KeyObject;
}

const MIN_SERIAL_BYTES = 16;
const MAX_SERIAL_OCTETS = 20;

/**
 * Builds a certificate from `template` with node-forge's ASN.1 layer and signs it with `node:crypto`.
 * Returns the certificate as PEM. Every field is checked; anything doubtful is a `PkiError`.
 *
 * @example
 * const leaf = issueCertificate(
 *   { serial: random.bytes(16), subject: { commonName: 'bot-ci' }, notBefore, notAfter, publicKey,
 *     isCa: false, keyUsage: ['digitalSignature'], extendedKeyUsage: ['clientAuth'] },
 *   { certificatePem: ca.certificatePem, privateKey: ca.privateKey },
 * );
 */
export function issueCertificate(
  template: CertificateTemplate,
  issuer: CertificateIssuer | SelfSignedIssuer,
): string {
  const serial = encodeSerial(template.serial);
  const notBefore = wholeSeconds(template.notBefore, 'notBefore');
  const notAfter = wholeSeconds(template.notAfter, 'notAfter');
  if (notAfter.getTime() <= notBefore.getTime()) {
    throw new PkiError(
      'invalid_validity',
      `notAfter (${notAfter.toISOString()}) must be later than notBefore (${notBefore.toISOString()}).`,
    );
  }
  const subjectSpki = subjectPublicKeyInfo(template.publicKey);
  checkKeyUsage(template);
  const subjectName = encodeDistinguishedName(template.subject);

  const signer = resolveIssuer(issuer, subjectName, subjectSpki);
  if (signer.certificate !== undefined) checkAgainstIssuer(template, notAfter, signer.certificate);
  const algorithm = signatureAlgorithmFor(signer.privateKey);

  const subjectKeyId = keyIdentifier(subjectSpki);
  const altNames = subjectAltNameExtension(template);
  const extensions = [
    basicConstraintsExtension(template.isCa, template.pathLength),
    keyUsageExtension(template.keyUsage),
    ...(template.extendedKeyUsage === undefined
      ? []
      : [extendedKeyUsageExtension(template.extendedKeyUsage)]),
    ...(altNames === undefined ? [] : [altNames]),
    subjectKeyIdentifierExtension(subjectKeyId),
    authorityKeyIdentifierExtension(signer.authorityKeyId ?? subjectKeyId),
  ];

  const tbs = sequence([
    explicitTag(0, smallInteger(2)), // 2 means X.509 v3, needed for extensions
    unsignedInteger(serial),
    algorithm.identifier(),
    signer.issuerName,
    sequence([time(notBefore), time(notAfter)]),
    subjectName,
    parseDer(subjectSpki, 'malformed_public_key', 'subject public key'),
    explicitTag(3, sequence(extensions)),
  ]);
  const tbsDer = toDer(tbs);
  const signature = algorithm.sign(tbsDer, signer.privateKey);
  const certificate = sequence([tbs, algorithm.identifier(), bitString(signature)]);
  return encodePem('CERTIFICATE', toDer(certificate));
}

/** A small typed view of a certificate, for callers that need its main fields. */
export interface ParsedCertificate {
  /** Lowercase hex of the serial as a positive integer, without leading zero bytes. */
  serialHex: string;
  /** As node prints it: one `key=value` attribute per line, e.g. `O=group\nCN=user`. */
  subject: string;
  issuer: string;
  notBefore: Date;
  notAfter: Date;
  publicKey: KeyObject;
  isCa: boolean;
  /** As node prints it, e.g. `DNS:example.com, IP Address:127.0.0.1`. */
  subjectAltName: string | undefined;
  raw: Buffer;
}

/** Parses one PEM certificate with node's `X509Certificate`. */
export function parseCertificate(pem: string): ParsedCertificate {
  const der = certificateDer(pem);
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(der);
  } catch (cause) {
    throw new PkiError('malformed_certificate', 'The certificate could not be parsed.', { cause });
  }
  return {
    serialHex: positiveSerialHex(certificate.serialNumber),
    subject: certificate.subject,
    issuer: certificate.issuer,
    notBefore: new Date(certificate.validFrom),
    notAfter: new Date(certificate.validTo),
    publicKey: certificate.publicKey,
    isCa: certificate.ca,
    subjectAltName: certificate.subjectAltName,
    raw: certificate.raw,
  };
}

/** The parts of an issuer's certificate that issuance needs, as exact DER. */
export interface CertificateStructure {
  subjectName: Asn1Node;
  subjectPublicKeyInfo: Buffer;
  notAfter: Date;
  extensions: Asn1Node[];
}

export function readCertificateStructure(der: Buffer): CertificateStructure {
  const code = 'malformed_certificate';
  const what = 'certificate';
  const [tbs] = childrenOf(parseDer(der, code, what), code, what);
  const fields = childrenOf(tbs, code, what);
  // A v1 certificate has no [0] version field; everything after it shifts by one.
  const at = isContextTag(fields[0], 0) ? 1 : 0;
  const validity = childrenOf(fields[at + 3], code, what);
  const subjectName = fields[at + 4];
  const spki = fields[at + 5];
  if (subjectName === undefined || spki === undefined) {
    throw new PkiError(code, 'The certificate does not have the expected ASN.1 structure.');
  }
  const extensionsField = fields.slice(at + 6).find((field) => isContextTag(field, 3));
  return {
    subjectName,
    subjectPublicKeyInfo: toDer(spki),
    notAfter: readTime(validity[1]),
    extensions:
      extensionsField === undefined ? [] : childrenOf(childrenOf(extensionsField, code, what)[0], code, what),
  };
}

function readTime(node: Asn1Node | undefined): Date {
  const value = bytesOf(node, 'malformed_certificate', 'certificate validity').toString('binary');
  const date =
    node?.type === asn1.Type.UTCTIME ? asn1.utcTimeToDate(value) : asn1.generalizedTimeToDate(value);
  if (Number.isNaN(date.getTime())) {
    throw new PkiError('malformed_certificate', 'The certificate validity dates cannot be read.');
  }
  return date;
}

interface ResolvedIssuer {
  issuerName: Asn1Node;
  privateKey: KeyObject;
  authorityKeyId: Buffer | undefined;
  certificate?: { notAfter: Date; extensions: IssuerExtensions };
}

function resolveIssuer(
  issuer: CertificateIssuer | SelfSignedIssuer,
  subjectName: Asn1Node,
  subjectSpki: Buffer,
): ResolvedIssuer {
  if ('selfSigned' in issuer) {
    const privateKey = requirePrivateKey(issuer.selfSigned, 'selfSigned');
    if (!canonicalSpkiDer(privateKey).equals(subjectSpki)) {
      throw new PkiError(
        'issuer_key_mismatch',
        'A self-signed certificate must be signed by the private key of its own publicKey; pass the matching pair.',
      );
    }
    return { issuerName: subjectName, privateKey, authorityKeyId: undefined };
  }
  const privateKey = requirePrivateKey(issuer.privateKey, 'issuer privateKey');
  // A CA signs many leaves: its certificate is parsed and checked once per key and PEM.
  const cached = resolvedIssuers.get(privateKey)?.get(issuer.certificatePem);
  if (cached !== undefined) return cached;
  const resolved = resolveCertificateIssuer(privateKey, issuer.certificatePem);
  const byPem = resolvedIssuers.get(privateKey) ?? new Map<string, ResolvedIssuer>();
  byPem.set(issuer.certificatePem, resolved);
  resolvedIssuers.set(privateKey, byPem);
  return resolved;
}

const resolvedIssuers = new WeakMap<KeyObject, Map<string, ResolvedIssuer>>();

function resolveCertificateIssuer(privateKey: KeyObject, certificatePem: string): ResolvedIssuer {
  const certificate = readCertificateStructure(certificateDer(certificatePem));
  if (!canonicalSpkiDer(privateKey).equals(certificate.subjectPublicKeyInfo)) {
    throw new PkiError(
      'issuer_key_mismatch',
      "The issuer's private key does not match its certificate; load the key that belongs to this CA certificate.",
    );
  }
  const extensions = readIssuerExtensions(certificate.extensions);
  return {
    // Copied byte for byte: chain building compares the issuer Name with the CA's subject exactly.
    issuerName: certificate.subjectName,
    privateKey,
    authorityKeyId: extensions.subjectKeyIdentifier ?? keyIdentifier(certificate.subjectPublicKeyInfo),
    certificate: { notAfter: certificate.notAfter, extensions },
  };
}

function checkAgainstIssuer(
  template: CertificateTemplate,
  notAfter: Date,
  issuer: { notAfter: Date; extensions: IssuerExtensions },
): void {
  const { extensions } = issuer;
  if (!extensions.isCa || !extensions.canSignCertificates) {
    throw new PkiError(
      'invalid_issuer',
      'The issuer certificate is not a CA allowed to sign certificates (needs CA:TRUE and keyCertSign).',
    );
  }
  if (template.isCa && extensions.pathLength !== undefined) {
    if (
      extensions.pathLength === 0 ||
      (template.pathLength ?? Number.POSITIVE_INFINITY) >= extensions.pathLength
    ) {
      throw new PkiError(
        'invalid_template',
        `The issuer allows ${extensions.pathLength} CA level(s) below it; this intermediate must have a pathLength below that.`,
      );
    }
  }
  if (notAfter.getTime() > issuer.notAfter.getTime()) {
    throw new PkiError(
      'not_after_past_issuer',
      `notAfter (${notAfter.toISOString()}) is past the issuing CA's own notAfter (${issuer.notAfter.toISOString()}); shorten the TTL or rotate the CA.`,
    );
  }
}

function checkKeyUsage(template: CertificateTemplate): void {
  const usages = new Set(template.keyUsage);
  if (template.isCa && !usages.has('keyCertSign')) {
    throw new PkiError('invalid_template', 'A CA certificate needs the keyCertSign key usage.');
  }
  if (!template.isCa && (usages.has('keyCertSign') || usages.has('cRLSign'))) {
    throw new PkiError(
      'invalid_template',
      'keyCertSign and cRLSign are for CA certificates only (RFC 5280 4.2.1.3); remove them from this leaf.',
    );
  }
  if (usages.has('keyEncipherment') && describeKey(template.publicKey).kind !== 'rsa') {
    throw new PkiError(
      'invalid_template',
      'keyEncipherment only applies to RSA keys (RFC 5480 3); use digitalSignature alone for this key.',
    );
  }
}

function encodeSerial(serial: unknown): Buffer {
  if (!Buffer.isBuffer(serial) || serial.length < MIN_SERIAL_BYTES) {
    throw new PkiError(
      'serial_too_short',
      `The serial must be at least ${MIN_SERIAL_BYTES} random bytes (128 bits); got ${Buffer.isBuffer(serial) ? serial.length : 'no'} bytes.`,
    );
  }
  if (serial.every((byte) => byte === 0)) {
    throw new PkiError('invalid_serial', 'The serial must be a positive number; it is all zero bytes.');
  }
  const encoded = minimalUnsigned(serial);
  if (encoded.length > MAX_SERIAL_OCTETS) {
    throw new PkiError(
      'invalid_serial',
      `The serial encodes to ${encoded.length} octets, over the ${MAX_SERIAL_OCTETS} allowed by RFC 5280; use 16 random bytes.`,
    );
  }
  return serial;
}

function wholeSeconds(date: unknown, field: string): Date {
  if (!(date instanceof Date) || Number.isNaN(date.getTime())) {
    throw new PkiError('invalid_validity', `${field} must be a valid Date.`);
  }
  return new Date(Math.floor(date.getTime() / 1000) * 1000);
}

function subjectPublicKeyInfo(publicKey: unknown): Buffer {
  if (!isKeyObject(publicKey) || publicKey.type !== 'public') {
    throw new PkiError('invalid_template', 'The template publicKey must be a public KeyObject.');
  }
  describeKey(publicKey);
  return canonicalSpkiDer(publicKey);
}

function requirePrivateKey(key: unknown, field: string): KeyObject {
  if (!isKeyObject(key) || key.type !== 'private') {
    throw new PkiError('invalid_issuer', `The ${field} must be a private KeyObject.`);
  }
  return key;
}

function isKeyObject(value: unknown): value is KeyObject {
  return value instanceof KeyObject;
}

/** Node's `serialNumber` (hex digits of the integer) as bytes: lowercase, no leading zero bytes. */
export function positiveSerialHex(nodeSerial: string): string {
  const hex = nodeSerial.toLowerCase();
  return (hex.length % 2 === 0 ? hex : `0${hex}`).replace(/^(00)+(?=..)/, '');
}
