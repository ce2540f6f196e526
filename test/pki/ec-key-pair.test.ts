import { createECDH, type KeyObject, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateP256KeyPair, p256KeyPairOf } from '../../lib/pki/ec-key-pair.js';
import { describeKey } from '../../lib/pki/key-description.js';
import { canonicalSpkiDer, privateKeyToPem, publicKeyToPem } from '../../lib/pki/key-encoding.js';

/** What node (OpenSSL) itself writes for the pair: the encodings remembered at generation must match. */
function expectEncodingsAsNodeWritesThem({
  privateKey,
  publicKey,
}: {
  privateKey: KeyObject;
  publicKey: KeyObject;
}) {
  expect(privateKeyToPem(privateKey)).toBe(privateKey.export({ type: 'pkcs8', format: 'pem' }));
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  expect(canonicalSpkiDer(publicKey).equals(spki)).toBe(true);
  expect(canonicalSpkiDer(privateKey).equals(spki)).toBe(true);
  expect(publicKeyToPem(publicKey)).toBe(publicKey.export({ type: 'spki', format: 'pem' }));
}

describe('generateP256KeyPair', () => {
  it('makes ECDSA P-256 pairs whose halves belong together, a new one each time', () => {
    const pairs = Array.from({ length: 20 }, () => generateP256KeyPair());
    for (const { privateKey, publicKey } of pairs) {
      expect(describeKey(privateKey)).toEqual({ kind: 'ec', curve: 'P-256' });
      expect(privateKey.type).toBe('private');
      expect(publicKey.type).toBe('public');
      const signature = sign('sha256', Buffer.from('message'), privateKey);
      expect(verify('sha256', Buffer.from('message'), publicKey, signature)).toBe(true);
    }
    expect(new Set(pairs.map(({ publicKey }) => publicKeyToPem(publicKey))).size).toBe(20);
  });

  it('knows the PKCS#8 and SubjectPublicKeyInfo bytes node would export, for many keys', () => {
    for (let round = 0; round < 300; round += 1) expectEncodingsAsNodeWritesThem(generateP256KeyPair());
  });

  it('writes all 32 bytes of a scalar that starts with zero bytes', () => {
    for (const scalarHex of [`00${'7f'.repeat(31)}`, `0000${'3c'.repeat(30)}`, `${'00'.repeat(31)}05`]) {
      const ecdh = createECDH('prime256v1');
      ecdh.setPrivateKey(Buffer.from(scalarHex, 'hex'));
      expect(ecdh.getPrivateKey().length).toBeLessThan(32);

      const pair = p256KeyPairOf(ecdh);

      expectEncodingsAsNodeWritesThem(pair);
      expect(pair.privateKey.export({ format: 'jwk' }).d).toBe(
        Buffer.from(scalarHex, 'hex').toString('base64url'),
      );
    }
  });
});
