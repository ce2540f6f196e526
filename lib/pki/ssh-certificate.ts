import type { KeyObject } from 'node:crypto';
import { PkiError } from '../core/errors.js';
import { hasUnsafeText } from './safe-text.js';
import {
  isSshKeyType,
  parseSshPublicKeyBlob,
  readSshPublicKeyFields,
  type SshKeyType,
  splitKeyLine,
  toSshPublicKeyBlob,
  writeSshPublicKeyFields,
} from './ssh-public-key.js';
import { signSsh, verifySsh } from './ssh-signature.js';
import { SshReader, SshWriter } from './ssh-wire.js';

/** What goes into an OpenSSH certificate (PROTOCOL.certkeys). */
export interface SshCertificateTemplate {
  type: 'user' | 'host';
  /** The subject's public key. */
  publicKey: KeyObject;
  /** uint64. */
  serial: bigint;
  /** Shown by `ssh-keygen -L` and logged by sshd for every login with this certificate. */
  keyId: string;
  /** Logins (user) or host names (host). Never empty: OpenSSH reads an empty list as "any". */
  principals: string[];
  /** Truncated to whole seconds. */
  validAfter: Date;
  /** Truncated to whole seconds. */
  validBefore: Date;
  /** User certificates only, e.g. `{ 'source-address': '10.0.0.0/8' }`. @default none */
  criticalOptions?: Record<string, string>;
  /** User certificates only, e.g. {@link DEFAULT_USER_EXTENSIONS}. @default none (no pty, no forwarding) */
  extensions?: string[];
  /** At least 16 random bytes (32 recommended), from the caller's `Random`. */
  nonce: Buffer;
}

/** A certificate read back from its one-line form. */
export interface ParsedSshCertificate {
  type: 'user' | 'host';
  /** The certificate type, e.g. `ecdsa-sha2-nistp256-cert-v01@openssh.com`. */
  keyType: SshCertificateType;
  publicKey: KeyObject;
  serial: bigint;
  keyId: string;
  principals: string[];
  validAfter: Date;
  validBefore: Date;
  criticalOptions: Record<string, string>;
  extensions: string[];
  signatureKey: KeyObject;
  /** True only if the CA signature verifies with an algorithm OpenSSH accepts by default. */
  signatureValid: boolean;
}

export type SshCertificateType = `${SshKeyType}-cert-v01@openssh.com`;

/**
 * What a machine user gets by default: a pty and port forwarding. X11 and agent forwarding and
 * `~/.ssh/rc` are left out; a role that needs them lists them explicitly.
 */
export const DEFAULT_USER_EXTENSIONS: readonly string[] = Object.freeze([
  'permit-port-forwarding',
  'permit-pty',
]);

const CERT_TYPE_USER = 1;
const CERT_TYPE_HOST = 2;
const MIN_NONCE_BYTES = 16;
const MAX_PRINCIPALS = 256;
const MAX_FIELD_LENGTH = 256;
const MAX_UINT64 = (1n << 64n) - 1n;
const OPTION_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*(@[A-Za-z0-9.-]+)?$/;
const CERT_SUFFIX = '-cert-v01@openssh.com';

/**
 * Signs an OpenSSH certificate with `caPrivateKey` and returns it as one line,
 * `<cert-type> <base64> <keyId>`, the content of a `key-cert.pub` file.
 *
 * @example
 * issueSshCertificate(
 *   { type: 'user', publicKey, serial: 1n, keyId: 'bot-ci', principals: ['deploy'],
 *     validAfter, validBefore, extensions: [...DEFAULT_USER_EXTENSIONS], nonce: random.bytes(32) },
 *   sshUserCa.privateKey,
 * );
 */
export function issueSshCertificate(template: SshCertificateTemplate, caPrivateKey: KeyObject): string {
  const certType = template.type === 'user' ? CERT_TYPE_USER : template.type === 'host' ? CERT_TYPE_HOST : 0;
  if (certType === 0) {
    throw new PkiError(
      'invalid_ssh_template',
      `The certificate type must be "user" or "host"; got ${String(template.type)}.`,
    );
  }
  const serial = checkSerial(template.serial);
  const keyId = checkKeyId(template.keyId);
  const principals = checkPrincipals(template.principals);
  const validAfter = seconds(template.validAfter, 'validAfter');
  const validBefore = seconds(template.validBefore, 'validBefore');
  if (validBefore <= validAfter) {
    throw new PkiError(
      'invalid_validity',
      `validBefore (${template.validBefore.toISOString()}) must be later than validAfter (${template.validAfter.toISOString()}).`,
    );
  }
  const criticalOptions = Object.entries(template.criticalOptions ?? {});
  const extensions = [...new Set(template.extensions ?? [])];
  if (certType === CERT_TYPE_HOST && (criticalOptions.length > 0 || extensions.length > 0)) {
    throw new PkiError(
      'invalid_ssh_template',
      'Host certificates carry no critical options or extensions (none are defined for them); leave both out.',
    );
  }
  if (!Buffer.isBuffer(template.nonce) || template.nonce.length < MIN_NONCE_BYTES) {
    throw new PkiError(
      'invalid_ssh_template',
      `The nonce must be at least ${MIN_NONCE_BYTES} random bytes (32 recommended).`,
    );
  }
  if (template.publicKey?.type !== 'public') {
    throw new PkiError('invalid_ssh_template', 'The template publicKey must be a public KeyObject.');
  }
  if (caPrivateKey?.type !== 'private') {
    throw new PkiError('invalid_issuer', 'The SSH CA key must be a private KeyObject.');
  }

  const keyFields = new SshWriter();
  const keyType = writeSshPublicKeyFields(template.publicKey, keyFields);
  const certificateType: SshCertificateType = `${keyType}${CERT_SUFFIX}`;
  const body = new SshWriter()
    .string(certificateType)
    .string(template.nonce)
    .raw(keyFields.toBuffer())
    .uint64(serial)
    .uint32(certType)
    .string(keyId)
    .string(packStrings(principals))
    .uint64(validAfter)
    .uint64(validBefore)
    .string(encodeOptions(criticalOptions.map(([name, value]) => [name, checkOptionValue(name, value)])))
    .string(encodeOptions(extensions.map((name) => [name, ''])))
    .string(Buffer.alloc(0)) // reserved
    .string(toSshPublicKeyBlob(caPrivateKey))
    .toBuffer();
  const signed = Buffer.concat([body, new SshWriter().string(signSsh(body, caPrivateKey)).toBuffer()]);
  return `${certificateType} ${signed.toString('base64')} ${keyId}`;
}

/** Reads a certificate line (`<cert-type> <base64> [comment]`) and checks its CA signature. */
export function parseSshCertificate(line: string): ParsedSshCertificate {
  const code = 'malformed_ssh_certificate';
  const what = 'SSH certificate';
  const [outerType, blob] = splitKeyLine(line, code, what);
  const reader = new SshReader(blob, code, what);
  const keyType = reader.text();
  const plainType = keyType.endsWith(CERT_SUFFIX) ? keyType.slice(0, -CERT_SUFFIX.length) : '';
  if (keyType !== outerType || !isSshKeyType(plainType)) {
    throw new PkiError(
      code,
      `Unsupported or mismatched certificate type ${JSON.stringify(outerType.slice(0, 64))}; expected an OpenSSH v01 certificate.`,
    );
  }
  reader.string(); // nonce
  const publicKey = readSshPublicKeyFields(plainType, reader, code);
  const serial = reader.uint64();
  const typeCode = reader.uint32();
  if (typeCode !== CERT_TYPE_USER && typeCode !== CERT_TYPE_HOST) {
    throw new PkiError(code, `The certificate type code ${typeCode} is neither user (1) nor host (2).`);
  }
  const keyId = reader.text();
  const principals = unpackStrings(reader.string(), code);
  const validAfter = toDate(reader.uint64());
  const validBefore = toDate(reader.uint64());
  const criticalOptions = decodeOptions(reader.string(), code, true);
  const extensions = decodeOptions(reader.string(), code, false);
  reader.string(); // reserved
  const signatureKey = parseSshPublicKeyBlob(reader.string(), code);
  const signedLength = reader.offset;
  const signature = reader.string();
  reader.end();
  return {
    type: typeCode === CERT_TYPE_USER ? 'user' : 'host',
    keyType: keyType as SshCertificateType,
    publicKey,
    serial,
    keyId,
    principals,
    validAfter,
    validBefore,
    criticalOptions: Object.fromEntries(criticalOptions),
    extensions: extensions.map(([name]) => name),
    signatureKey,
    signatureValid: verifySsh(blob.subarray(0, signedLength), signature, signatureKey),
  };
}

function checkSerial(serial: unknown): bigint {
  if (typeof serial !== 'bigint' || serial < 0n || serial > MAX_UINT64) {
    throw new PkiError(
      'invalid_ssh_template',
      'The SSH certificate serial must be a bigint from 0 to 2^64-1.',
    );
  }
  return serial;
}

function checkKeyId(keyId: unknown): string {
  if (typeof keyId !== 'string' || keyId.length === 0 || keyId.length > MAX_FIELD_LENGTH) {
    throw new PkiError(
      'invalid_ssh_template',
      `The key id must be a string of 1 to ${MAX_FIELD_LENGTH} characters.`,
    );
  }
  if (hasUnsafeText(keyId) || keyId.trim() !== keyId) {
    throw new PkiError(
      'invalid_ssh_template',
      `The key id ${JSON.stringify(keyId)} contains control characters or surrounding whitespace; it ends up in sshd's logs.`,
    );
  }
  return keyId;
}

function checkPrincipals(principals: unknown): string[] {
  if (!Array.isArray(principals) || principals.length === 0) {
    throw new PkiError(
      'invalid_ssh_template',
      'An SSH certificate needs at least one principal; OpenSSH would treat an empty list as "every principal".',
    );
  }
  const unique = [...new Set(principals as unknown[])];
  if (unique.length > MAX_PRINCIPALS) {
    throw new PkiError(
      'invalid_ssh_template',
      `An SSH certificate may carry at most ${MAX_PRINCIPALS} principals.`,
    );
  }
  return unique.map(checkSshPrincipal);
}

/**
 * Refuses a principal that OpenSSH could misread: whitespace and commas separate principals in
 * `AuthorizedPrincipalsFile` and in `ssh-keygen -n`, control characters corrupt logs. Exported so the
 * resource layer can refuse such logins when a role is created.
 */
export function checkSshPrincipal(principal: unknown): string {
  if (
    typeof principal !== 'string' ||
    principal.length === 0 ||
    principal.length > MAX_FIELD_LENGTH ||
    /[\s,]/u.test(principal) ||
    hasUnsafeText(principal)
  ) {
    throw new PkiError(
      'invalid_principal',
      `The principal ${JSON.stringify(principal)} is not allowed: it must be 1-${MAX_FIELD_LENGTH} characters without whitespace, commas or control characters.`,
    );
  }
  return principal;
}

function checkOptionValue(name: string, value: unknown): string {
  if (typeof value !== 'string' || hasUnsafeText(value) || value.length > 4096) {
    throw new PkiError(
      'invalid_ssh_template',
      `The value of critical option ${JSON.stringify(name)} must be a string of printable characters.`,
    );
  }
  return value;
}

/**
 * The critical options / extensions encoding: `(string name, string data)*` sorted by name. Non-empty
 * values are wrapped in one more string, as OpenSSH does for `force-command` and `source-address`.
 */
function encodeOptions(entries: Array<[string, string]>): Buffer {
  const writer = new SshWriter();
  const sorted = [...entries].sort(([a], [b]) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  for (const [name, value] of sorted) {
    if (!OPTION_NAME.test(name) || name.length > MAX_FIELD_LENGTH) {
      throw new PkiError(
        'invalid_ssh_template',
        `The option or extension name ${JSON.stringify(name)} is not valid (letters, digits, "-", "_", ".", optionally @domain).`,
      );
    }
    writer.string(name).string(value === '' ? Buffer.alloc(0) : new SshWriter().string(value).toBuffer());
  }
  return writer.toBuffer();
}

function decodeOptions(data: Buffer, code: string, critical: boolean): Array<[string, string]> {
  const what = critical ? 'SSH certificate critical options' : 'SSH certificate extensions';
  const reader = new SshReader(data, code, what);
  const entries: Array<[string, string]> = [];
  let previous: Buffer | undefined;
  while (reader.offset < data.length) {
    const name = reader.text();
    const nameBytes = Buffer.from(name, 'utf8');
    // PROTOCOL.certkeys: lexically ordered, each name at most once.
    if (previous !== undefined && Buffer.compare(previous, nameBytes) >= 0) {
      throw new PkiError(code, `The ${what} are not in strictly increasing order by name.`);
    }
    previous = nameBytes;
    const value = reader.string();
    let text = '';
    if (value.length > 0) {
      const inner = new SshReader(value, code, what);
      text = inner.text();
      inner.end();
    }
    entries.push([name, text]);
  }
  return entries;
}

function packStrings(values: string[]): Buffer {
  const writer = new SshWriter();
  for (const value of values) writer.string(value);
  return writer.toBuffer();
}

function unpackStrings(data: Buffer, code: string): string[] {
  const reader = new SshReader(data, code, 'SSH certificate principals');
  const values: string[] = [];
  while (reader.offset < data.length) values.push(reader.text());
  return values;
}

function seconds(date: unknown, field: string): bigint {
  if (!(date instanceof Date) || Number.isNaN(date.getTime()) || date.getTime() < 0) {
    throw new PkiError('invalid_validity', `${field} must be a valid Date after 1970.`);
  }
  return BigInt(Math.floor(date.getTime() / 1000));
}

// 0xffffffffffffffff means "forever" in OpenSSH; anything past JavaScript's last date reads as that date.
const MAX_DATE_SECONDS = 8_640_000_000_000n;

function toDate(value: bigint): Date {
  return new Date(Number(value > MAX_DATE_SECONDS ? MAX_DATE_SECONDS : value) * 1000);
}
