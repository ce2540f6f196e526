import { sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { describeKey } from '../../lib/pki/key-description.js';
import { canonicalSpkiDer, privateKeyToPem } from '../../lib/pki/key-encoding.js';
import { generateRsaKeyPair } from '../../lib/pki/rsa-key-pair.js';

describe('generateRsaKeyPair', () => {
  it('makes RSA pairs of the asked size with exponent 65537, encoded as node would export them', () => {
    for (let round = 0; round < 3; round += 1) {
      const { privateKey, publicKey } = generateRsaKeyPair(2048);

      expect(describeKey(publicKey)).toEqual({ kind: 'rsa', modulusBits: 2048, publicExponent: 65537n });
      const signature = sign('sha256', Buffer.from('message'), privateKey);
      expect(verify('sha256', Buffer.from('message'), publicKey, signature)).toBe(true);
      expect(privateKeyToPem(privateKey)).toBe(privateKey.export({ type: 'pkcs8', format: 'pem' }));
      const spki = publicKey.export({ type: 'spki', format: 'der' });
      expect(canonicalSpkiDer(publicKey).equals(spki)).toBe(true);
      expect(canonicalSpkiDer(privateKey).equals(spki)).toBe(true);
    }
  });
});
