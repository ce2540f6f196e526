import { sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateEd25519KeyPair } from '../../lib/pki/ed25519-key-pair.js';
import { describeKey } from '../../lib/pki/key-description.js';
import { canonicalSpkiDer, privateKeyToPem, publicKeyToPem } from '../../lib/pki/key-encoding.js';

describe('generateEd25519KeyPair', () => {
  it('makes Ed25519 pairs whose halves belong together, a new one each time', () => {
    const pairs = Array.from({ length: 20 }, () => generateEd25519KeyPair());
    for (const { privateKey, publicKey } of pairs) {
      expect(describeKey(privateKey)).toEqual({ kind: 'ed25519' });
      const signature = sign(null, Buffer.from('message'), privateKey);
      expect(verify(null, Buffer.from('message'), publicKey, signature)).toBe(true);
    }
    expect(new Set(pairs.map(({ publicKey }) => publicKeyToPem(publicKey))).size).toBe(20);
  });

  it('knows the PKCS#8 and SubjectPublicKeyInfo bytes node would export', () => {
    for (let round = 0; round < 200; round += 1) {
      const { privateKey, publicKey } = generateEd25519KeyPair();
      expect(privateKeyToPem(privateKey)).toBe(privateKey.export({ type: 'pkcs8', format: 'pem' }));
      const spki = publicKey.export({ type: 'spki', format: 'der' });
      expect(canonicalSpkiDer(publicKey).equals(spki)).toBe(true);
      expect(canonicalSpkiDer(privateKey).equals(spki)).toBe(true);
    }
  });
});
