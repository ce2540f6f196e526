import { type KeyObject, sign, verify } from 'node:crypto';
import { PkiError } from '../core/errors.js';
import { describeKey } from './key-description.js';
import { SshReader, SshWriter } from './ssh-wire.js';

const MIN_RSA_CA_BITS = 2048;

/**
 * An SSH signature blob (`string algorithm, string signature`) over `data`, made with a CA key:
 * `ssh-ed25519` (RFC 8709), `ecdsa-sha2-nistp256/384` with the `mpint r, mpint s` encoding (RFC 5656
 * 3.1.2), or `rsa-sha2-512` (RFC 8332; OpenSSH refuses SHA-1 `ssh-rsa` CA signatures by default).
 */
export function signSsh(data: Buffer, privateKey: KeyObject): Buffer {
  const description = describeKey(privateKey);
  switch (description.kind) {
    case 'ed25519':
      return new SshWriter()
        .string('ssh-ed25519')
        .string(sign(null, data, privateKey))
        .toBuffer();
    case 'ec': {
      const p384 = description.curve === 'P-384';
      const raw = sign(p384 ? 'sha384' : 'sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      const half = raw.length / 2;
      const rs = new SshWriter().mpint(raw.subarray(0, half)).mpint(raw.subarray(half)).toBuffer();
      return new SshWriter()
        .string(p384 ? 'ecdsa-sha2-nistp384' : 'ecdsa-sha2-nistp256')
        .string(rs)
        .toBuffer();
    }
    case 'rsa':
      if (description.modulusBits < MIN_RSA_CA_BITS) {
        throw new PkiError(
          'weak_issuer_key',
          `An RSA SSH CA key must have at least ${MIN_RSA_CA_BITS} bits; this one has ${description.modulusBits}.`,
        );
      }
      return new SshWriter()
        .string('rsa-sha2-512')
        .string(sign('sha512', data, privateKey))
        .toBuffer();
  }
}

/**
 * Whether `signatureBlob` is a valid signature over `data` by `publicKey`, with an algorithm that
 * matches the key and that OpenSSH accepts by default. Never throws on a bad signature.
 */
export function verifySsh(data: Buffer, signatureBlob: Buffer, publicKey: KeyObject): boolean {
  try {
    const reader = new SshReader(signatureBlob, 'malformed_ssh_signature', 'SSH signature');
    const algorithm = reader.text();
    const signature = reader.string();
    reader.end();
    const description = describeKey(publicKey);
    switch (description.kind) {
      case 'ed25519':
        return algorithm === 'ssh-ed25519' && verify(null, data, publicKey, signature);
      case 'ec': {
        const p384 = description.curve === 'P-384';
        if (algorithm !== (p384 ? 'ecdsa-sha2-nistp384' : 'ecdsa-sha2-nistp256')) return false;
        const size = p384 ? 48 : 32;
        const rs = new SshReader(signature, 'malformed_ssh_signature', 'SSH signature');
        const r = rs.mpint();
        const s = rs.mpint();
        rs.end();
        if (r.length > size || s.length > size) return false;
        const raw = Buffer.concat([leftPad(r, size), leftPad(s, size)]);
        return verify(p384 ? 'sha384' : 'sha256', data, { key: publicKey, dsaEncoding: 'ieee-p1363' }, raw);
      }
      case 'rsa': {
        const hash =
          algorithm === 'rsa-sha2-512' ? 'sha512' : algorithm === 'rsa-sha2-256' ? 'sha256' : undefined;
        const size = Math.ceil(description.modulusBits / 8);
        if (hash === undefined || signature.length > size) return false;
        return verify(hash, data, publicKey, leftPad(signature, size));
      }
    }
  } catch {
    return false;
  }
}

function leftPad(bytes: Buffer, size: number): Buffer {
  return bytes.length >= size ? bytes : Buffer.concat([Buffer.alloc(size - bytes.length), bytes]);
}
