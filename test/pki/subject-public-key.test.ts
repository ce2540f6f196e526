import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { privateKeyToPem } from '../../lib/pki/key-encoding.js';
import { generateKeyPair } from '../../lib/pki/signature-suite.js';
import { parseSubjectPublicKey } from '../../lib/pki/subject-public-key.js';
import { pkiErrorCode, run, tempDir } from './tools.js';

// Written by node directly, so that key types lib/pki does not handle can be sent too.
const spki = (key: { publicKey: KeyObject }) =>
  key.publicKey.export({ type: 'spki', format: 'pem' }) as string;

const dir = tempDir();
afterAll(() => dir.cleanup());
const p256 = generateKeyPair('balanced', 'subject');
const p256File = dir.write('p256.pem', privateKeyToPem(p256.privateKey));

describe('parseSubjectPublicKey accepts', () => {
  it.each([
    ['ECDSA P-256', () => spki(p256)],
    ['ECDSA P-384', () => spki(generateKeyPairSync('ec', { namedCurve: 'P-384' }))],
    ['RSA-2048', () => spki(generateKeyPair('legacy', 'subject'))],
    ['RSA-3072', () => spki(generateKeyPairSync('rsa', { modulusLength: 3072 }))],
    [
      'a PEM with CRLF line ends and surrounding whitespace',
      () => `\r\n${spki(p256).replace(/\n/g, '\r\n')}  \n`,
    ],
  ])('%s', (_, pem) => {
    const text = pem();
    expect(parseSubjectPublicKey(text).export({ type: 'spki', format: 'pem' })).toBe(
      text.trim().replace(/\r/g, '') + '\n',
    );
  });
});

describe('parseSubjectPublicKey refuses', () => {
  it.each([
    ['RSA-1024', () => spki(generateKeyPairSync('rsa', { modulusLength: 1024 })), 'weak_public_key'],
    [
      'RSA with public exponent 3',
      () => spki(generateKeyPairSync('rsa', { modulusLength: 2048, publicExponent: 3 })),
      'weak_public_key',
    ],
    [
      'a secp256k1 key',
      () => spki(generateKeyPairSync('ec', { namedCurve: 'secp256k1' })),
      'unsupported_public_key',
    ],
    ['a P-521 key', () => spki(generateKeyPairSync('ec', { namedCurve: 'P-521' })), 'unsupported_public_key'],
    ['an Ed25519 key', () => spki(generateKeyPairSync('ed25519')), 'unsupported_public_key'],
    [
      'a DSA key',
      () => spki(generateKeyPairSync('dsa', { modulusLength: 1024, divisorLength: 160 })),
      'unsupported_public_key',
    ],
    ['garbage', () => 'hello', 'malformed_public_key'],
    ['an empty string', () => '', 'malformed_public_key'],
    [
      'garbage inside a PEM block',
      () => '-----BEGIN PUBLIC KEY-----\nAAAAAAAA\n-----END PUBLIC KEY-----\n',
      'malformed_public_key',
    ],
    ['a private key PEM', () => privateKeyToPem(p256.privateKey), 'private_key_not_accepted'],
    [
      'a private key in SEC1 form',
      () => run('openssl', ['ec', '-in', p256File]).replace(/^read EC key\n/, ''),
      'private_key_not_accepted',
    ],
    ['an oversized input', () => spki(p256) + ' '.repeat(9000), 'malformed_public_key'],
    ['two PEM blocks', () => spki(p256) + spki(p256), 'malformed_public_key'],
    ['text after the PEM block', () => `${spki(p256)}trailing`, 'malformed_public_key'],
    [
      'a PKCS#1 "RSA PUBLIC KEY"',
      () => generateKeyPair('legacy', 'subject').publicKey.export({ type: 'pkcs1', format: 'pem' }) as string,
      'malformed_public_key',
    ],
    ['a certificate', () => spki(p256).replace(/PUBLIC KEY/g, 'CERTIFICATE'), 'malformed_public_key'],
    [
      'an EC key with explicit curve parameters',
      () => run('openssl', ['ec', '-in', p256File, '-pubout', '-param_enc', 'explicit']),
      'malformed_public_key',
    ],
    [
      'an EC key with a compressed point',
      () => run('openssl', ['ec', '-in', p256File, '-pubout', '-conv_form', 'compressed']),
      'malformed_public_key',
    ],
    [
      'an EC point that is not on the curve',
      () => {
        const der = p256.publicKey.export({ type: 'spki', format: 'der' });
        der[der.length - 1] = der[der.length - 1]! ^ 1;
        return `-----BEGIN PUBLIC KEY-----\n${der.toString('base64')}\n-----END PUBLIC KEY-----\n`;
      },
      'malformed_public_key',
    ],
    [
      'an encrypted-PEM header',
      () => spki(p256).replace('\n', '\nProc-Type: 4,ENCRYPTED\n\n'),
      'malformed_public_key',
    ],
  ])('%s', (_, pem, code) => {
    expect(pkiErrorCode(() => parseSubjectPublicKey(pem()))).toBe(code);
  });

  it('non-string input', () => {
    expect(pkiErrorCode(() => parseSubjectPublicKey(42 as unknown as string))).toBe('malformed_public_key');
  });
});
