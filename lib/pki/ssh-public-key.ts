import { createHash, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { PkiError } from '../core/errors.js';
import { describeKey } from './key-description.js';
import { hasUnsafeText } from './safe-text.js';
import { SshReader, SshWriter } from './ssh-wire.js';

/** The plain (non-certificate) OpenSSH key types supported here. */
export type SshKeyType = 'ssh-ed25519' | 'ecdsa-sha2-nistp256' | 'ecdsa-sha2-nistp384' | 'ssh-rsa';

const SSH_KEY_TYPES: readonly SshKeyType[] = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ssh-rsa',
];

const EC: Record<
  'ecdsa-sha2-nistp256' | 'ecdsa-sha2-nistp384',
  { curve: string; jwk: string; size: number }
> = {
  'ecdsa-sha2-nistp256': { curve: 'nistp256', jwk: 'P-256', size: 32 },
  'ecdsa-sha2-nistp384': { curve: 'nistp384', jwk: 'P-384', size: 48 },
};

const MAX_AUTHORIZED_KEY_LINE = 16 * 1024;
const MAX_RSA_BITS = 16384;

export function isSshKeyType(value: string): value is SshKeyType {
  return (SSH_KEY_TYPES as readonly string[]).includes(value);
}

/** The OpenSSH name of a node key's type. */
export function sshKeyType(key: KeyObject): SshKeyType {
  const description = describeKey(key);
  switch (description.kind) {
    case 'ed25519':
      return 'ssh-ed25519';
    case 'ec':
      return description.curve === 'P-256' ? 'ecdsa-sha2-nistp256' : 'ecdsa-sha2-nistp384';
    case 'rsa':
      return 'ssh-rsa';
  }
}

/**
 * Writes the type-specific fields of a public key (everything after the type name): RFC 8709 for
 * Ed25519, RFC 5656 3.1 for ECDSA, RFC 4253 6.6 for RSA. Certificates embed exactly these fields.
 */
export function writeSshPublicKeyFields(key: KeyObject, writer: SshWriter): SshKeyType {
  const type = sshKeyType(key);
  const jwk = publicOf(key).export({ format: 'jwk' });
  const part = (name: 'x' | 'y' | 'n' | 'e') => Buffer.from(jwk[name] ?? '', 'base64url');
  if (type === 'ssh-ed25519') {
    writer.string(part('x'));
  } else if (type === 'ssh-rsa') {
    writer.mpint(part('e')).mpint(part('n'));
  } else {
    writer.string(EC[type].curve).string(Buffer.concat([Buffer.from([0x04]), part('x'), part('y')]));
  }
  return type;
}

/** Reads the fields that `writeSshPublicKeyFields` writes, for a known `type`, into a node key. */
export function readSshPublicKeyFields(type: SshKeyType, reader: SshReader, code: string): KeyObject {
  const refuse = (why: string) => new PkiError(code, `The ${type} public key ${why}.`);
  let jwk: JsonWebKey;
  if (type === 'ssh-ed25519') {
    const pk = reader.string();
    if (pk.length !== 32) throw refuse('must be 32 bytes');
    jwk = { kty: 'OKP', crv: 'Ed25519', x: pk.toString('base64url') };
  } else if (type === 'ssh-rsa') {
    const e = reader.mpint();
    const n = reader.mpint();
    if (n.length * 8 > MAX_RSA_BITS || e.length === 0 || e.length > 8 || n.length === 0) {
      throw refuse('has an out-of-range modulus or exponent');
    }
    jwk = { kty: 'RSA', n: n.toString('base64url'), e: e.toString('base64url') };
  } else {
    const { curve, jwk: crv, size } = EC[type];
    if (reader.text() !== curve) throw refuse(`must name the curve ${curve}`);
    const point = reader.string();
    // Only the uncompressed form: that is what RFC 5656 producers write and what OpenSSH reads.
    if (point.length !== 1 + 2 * size || point[0] !== 0x04) throw refuse('is not an uncompressed point');
    jwk = {
      kty: 'EC',
      crv,
      x: point.subarray(1, 1 + size).toString('base64url'),
      y: point.subarray(1 + size).toString('base64url'),
    };
  }
  try {
    return createPublicKey({ key: jwk, format: 'jwk' });
  } catch (cause) {
    // OpenSSL refuses, among others, EC points that are not on the curve.
    throw new PkiError(code, `The ${type} public key is not a valid key.`, { cause });
  }
}

/** The SSH wire encoding of a public key (a private key is reduced to its public half). */
export function toSshPublicKeyBlob(key: KeyObject): Buffer {
  const fields = new SshWriter();
  const type = writeSshPublicKeyFields(key, fields);
  return new SshWriter().string(type).raw(fields.toBuffer()).toBuffer();
}

/** Reads a plain public key blob; certificate types are refused. */
export function parseSshPublicKeyBlob(blob: Buffer, code = 'malformed_ssh_public_key'): KeyObject {
  const reader = new SshReader(blob, code, 'SSH public key');
  const type = reader.text();
  if (!isSshKeyType(type)) {
    throw new PkiError(
      code,
      `SSH key type ${JSON.stringify(type.slice(0, 64))} is not supported; use ${SSH_KEY_TYPES.join(', ')}.`,
    );
  }
  const key = readSshPublicKeyFields(type, reader, code);
  reader.end();
  return key;
}

/**
 * One `authorized_keys` / `.pub` line: `<type> <base64> [comment]`.
 *
 * @example
 * toAuthorizedKey(key, 'bot-ci'); // 'ecdsa-sha2-nistp256 AAAAE2VjZHNh... bot-ci'
 */
export function toAuthorizedKey(key: KeyObject, comment?: string): string {
  const blob = toSshPublicKeyBlob(key);
  const type = sshKeyType(key);
  if (comment === undefined || comment === '') return `${type} ${blob.toString('base64')}`;
  if (hasUnsafeText(comment)) {
    throw new PkiError(
      'invalid_ssh_comment',
      'An SSH key comment must not contain control characters or line breaks; it would corrupt the line.',
    );
  }
  return `${type} ${blob.toString('base64')} ${comment}`;
}

/**
 * Reads a `<type> <base64> [comment]` line (no authorized_keys options, no markers). The type outside
 * must match the type inside the blob.
 */
export function parseAuthorizedKey(line: string): KeyObject {
  const code = 'malformed_ssh_public_key';
  const [type, blob] = splitKeyLine(line, code, 'SSH public key');
  const key = parseSshPublicKeyBlob(blob, code);
  if (sshKeyType(key) !== type) {
    throw new PkiError(
      code,
      `The line says ${JSON.stringify(type)} but the key inside is ${sshKeyType(key)}.`,
    );
  }
  return key;
}

/** `SHA256:` + unpadded base64 of the SHA-256 of the key blob, as `ssh-keygen -l` prints it. */
export function sshFingerprint(key: KeyObject): string {
  const digest = createHash('sha256').update(toSshPublicKeyBlob(key)).digest('base64');
  return `SHA256:${digest.replace(/=+$/, '')}`;
}

/** Splits `<type> <base64> [comment]`, decoding the base64 strictly. Shared with certificates. */
export function splitKeyLine(line: string, code: string, what: string): [string, Buffer] {
  if (typeof line !== 'string' || line.length > MAX_AUTHORIZED_KEY_LINE) {
    throw new PkiError(
      code,
      `The ${what} line must be a string of at most ${MAX_AUTHORIZED_KEY_LINE} characters.`,
    );
  }
  const match = /^([A-Za-z0-9@.-]+)[ \t]+([A-Za-z0-9+/]+={0,2})(?:[ \t]+([^\r\n]*))?$/.exec(line.trim());
  const [, type, base64] = match ?? [];
  if (type === undefined || base64 === undefined) {
    throw new PkiError(code, `The ${what} is not a single "<type> <base64> [comment]" line.`);
  }
  const blob = Buffer.from(base64, 'base64');
  if (blob.toString('base64') !== base64) {
    throw new PkiError(code, `The ${what} does not contain valid base64.`);
  }
  return [type, blob];
}

function publicOf(key: KeyObject): KeyObject {
  return key.type === 'private' ? createPublicKey(key) : key;
}
