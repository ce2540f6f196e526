import { rootCertificates } from 'node:tls';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { certificateDer } from '../../lib/pki/certificate-der.js';
import { certificateSpki } from '../../lib/pki/certificate-spki.js';
import { SIGNATURE_SUITES } from '../../lib/pki/signature-suite.js';
import { readCertificateStructure } from '../../lib/pki/x509-certificate.js';
import { pkiErrorCode, run, selfSignedTestCa, type TestCaKind, tempDir } from './tools.js';

let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => dir.cleanup());

/** What the ASN.1 parser of `lib/pki` reads as the SubjectPublicKeyInfo. */
const parsedSpki = (der: Buffer) => readCertificateStructure(der).subjectPublicKeyInfo;

function issuedCa(kind: TestCaKind): Buffer {
  return certificateDer(selfSignedTestCa(kind, 'spki test CA').certificatePem);
}

describe('certificateSpki', () => {
  it.each([...SIGNATURE_SUITES, 'Ed25519'] as const)(
    'reads the same bytes as the ASN.1 parser from a %s certificate issued here',
    (suite) => {
      const der = issuedCa(suite);
      expect(certificateSpki(der).equals(parsedSpki(der))).toBe(true);
    },
  );

  it('reads the same bytes as the ASN.1 parser from every root CA that node trusts', () => {
    expect(rootCertificates.length).toBeGreaterThan(50);
    for (const pem of rootCertificates) {
      const der = certificateDer(pem);
      expect(certificateSpki(der).equals(parsedSpki(der))).toBe(true);
    }
  });

  it('reads a v1 certificate, which has no version field', () => {
    const key = dir.path('v1.key');
    run('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
    const csr = run('openssl', ['req', '-new', '-key', key, '-subj', '/CN=v1']);
    const pem = run('openssl', ['x509', '-req', '-signkey', key, '-days', '1'], csr);
    expect(run('openssl', ['x509', '-noout', '-text'], pem)).toContain('Version: 1 (0x0)');
    const der = certificateDer(pem);
    expect(certificateSpki(der).equals(parsedSpki(der))).toBe(true);
  });

  it('refuses every truncation of a certificate and a certificate with bytes after it', () => {
    const der = issuedCa('balanced');
    for (let length = 0; length < der.length; length += 1) {
      expect(pkiErrorCode(() => certificateSpki(der.subarray(0, length)))).toBe('malformed_certificate');
    }
    expect(pkiErrorCode(() => certificateSpki(Buffer.concat([der, Buffer.from([0])])))).toBe(
      'malformed_certificate',
    );
  });
});
