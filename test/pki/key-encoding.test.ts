import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parsePrivateKeyPem, privateKeyToPem, publicKeyToPem } from '../../lib/pki/key-encoding.js';
import { generateKeyPair, SIGNATURE_SUITES } from '../../lib/pki/signature-suite.js';
import { toAuthorizedKey } from '../../lib/pki/ssh-public-key.js';
import { pkiErrorCode, run, tempDir } from './tools.js';

let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => dir.cleanup());

describe.each(SIGNATURE_SUITES)('the %s subject key file', (suite) => {
  const { privateKey, publicKey } = generateKeyPair(suite, 'subject');
  const pem = privateKeyToPem(privateKey);

  it('is unencrypted PKCS#8 PEM', () => {
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+-----END PRIVATE KEY-----\n$/);
  });

  it('is accepted by OpenSSH: ssh-keygen -y derives the matching public key', () => {
    const file = dir.write('key', pem);
    expect(run('ssh-keygen', ['-y', '-f', file]).trim()).toBe(toAuthorizedKey(publicKey));
  });

  it('is accepted by OpenSSL: openssl pkey derives the matching public key', () => {
    const file = dir.write('key', pem);
    expect(run('openssl', ['pkey', '-in', file, '-pubout'])).toBe(publicKeyToPem(publicKey));
  });

  it('reads back as the same key', () => {
    expect(parsePrivateKeyPem(pem).equals(privateKey)).toBe(true);
  });
});

describe('parsePrivateKeyPem', () => {
  const ec = generateKeyPair('balanced', 'subject').privateKey;
  const rsa = generateKeyPair('legacy', 'subject').privateKey;

  it('reads SEC1 "EC PRIVATE KEY" and PKCS#1 "RSA PRIVATE KEY" files written by openssl', () => {
    const sec1 = run('openssl', ['ec', '-in', dir.write('ec.pem', privateKeyToPem(ec))]);
    expect(sec1).toContain('-----BEGIN EC PRIVATE KEY-----');
    expect(parsePrivateKeyPem(sec1).equals(ec)).toBe(true);
    const pkcs1 = run('openssl', ['rsa', '-traditional', '-in', dir.write('rsa.pem', privateKeyToPem(rsa))]);
    expect(pkcs1).toContain('-----BEGIN RSA PRIVATE KEY-----');
    expect(parsePrivateKeyPem(pkcs1).equals(rsa)).toBe(true);
  });

  it('reads an Ed25519 CA key', () => {
    const ed = generateKeyPair('balanced', 'ssh-ca').privateKey;
    expect(parsePrivateKeyPem(privateKeyToPem(ed)).equals(ed)).toBe(true);
  });

  it('refuses an encrypted key with instructions', () => {
    const file = dir.write('ec.pem', privateKeyToPem(ec));
    const encrypted = run('openssl', ['pkey', '-in', file, '-aes256', '-passout', 'pass:secret']);
    expect(pkiErrorCode(() => parsePrivateKeyPem(encrypted))).toBe('encrypted_private_key');
  });

  it('refuses an OpenSSH-format key with instructions', () => {
    run('ssh-keygen', ['-q', '-t', 'ecdsa', '-N', '', '-f', dir.path('id')]);
    expect(pkiErrorCode(() => parsePrivateKeyPem(readFileSync(dir.path('id'), 'utf8')))).toBe(
      'unsupported_private_key',
    );
  });

  it.each([
    ['a public key', () => publicKeyToPem(ec)],
    ['garbage', () => 'not a key'],
    ['a PEM block of garbage', () => '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'],
    ['an oversized input', () => privateKeyToPem(ec) + ' '.repeat(20_000)],
  ])('refuses %s', (_, pem) => {
    expect(pkiErrorCode(() => parsePrivateKeyPem(pem()))).toBe('malformed_private_key');
  });

  it('refuses a key type lib/pki does not use', () => {
    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey;
    expect(pkiErrorCode(() => parsePrivateKeyPem(privateKeyToPem(k1)))).toBe('unsupported_key_type');
  });
});

describe('privateKeyToPem', () => {
  it('refuses a public key', () => {
    const { publicKey } = generateKeyPair('balanced', 'subject');
    expect(pkiErrorCode(() => privateKeyToPem(publicKey))).toBe('not_a_private_key');
  });
});
