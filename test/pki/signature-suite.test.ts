import { describe, expect, it } from 'vitest';
import {
  generateKeyPair,
  type KeyRole,
  SIGNATURE_SUITES,
  type SignatureSuiteName,
} from '../../lib/pki/signature-suite.js';
import { pkiErrorCode } from './tools.js';

describe('signature suites', () => {
  it('are balanced and legacy', () => {
    expect(SIGNATURE_SUITES).toEqual(['balanced', 'legacy']);
  });

  it.each([
    ['balanced', 'tls-ca', 'ec', { namedCurve: 'prime256v1' }],
    ['balanced', 'ssh-ca', 'ed25519', {}],
    ['balanced', 'subject', 'ec', { namedCurve: 'prime256v1' }],
    ['legacy', 'tls-ca', 'rsa', { modulusLength: 2048, publicExponent: 65537n }],
    ['legacy', 'ssh-ca', 'rsa', { modulusLength: 2048, publicExponent: 65537n }],
    ['legacy', 'subject', 'rsa', { modulusLength: 2048, publicExponent: 65537n }],
  ] as Array<[SignatureSuiteName, KeyRole, string, object]>)(
    '%s %s keys are %s',
    (suite, role, type, details) => {
      const { privateKey, publicKey } = generateKeyPair(suite, role);
      expect(privateKey.type).toBe('private');
      expect(publicKey.type).toBe('public');
      expect(publicKey.asymmetricKeyType).toBe(type);
      expect(publicKey.asymmetricKeyDetails).toEqual(details);
    },
  );

  it('generates a fresh key pair on every call', () => {
    const a = generateKeyPair('balanced', 'subject').publicKey;
    const b = generateKeyPair('balanced', 'subject').publicKey;
    expect(a.equals(b)).toBe(false);
  });

  it('refuses an unknown suite or role', () => {
    expect(pkiErrorCode(() => generateKeyPair('fast' as SignatureSuiteName, 'subject'))).toBe(
      'unknown_signature_suite',
    );
    expect(pkiErrorCode(() => generateKeyPair('balanced', 'root' as KeyRole))).toBe(
      'unknown_signature_suite',
    );
  });
});
