import { sign } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { secureRandom } from '../../lib/core/random.js';
import { generateKeyPair } from '../../lib/pki/signature-suite.js';
import { issueCertificate, parseCertificate } from '../../lib/pki/x509-certificate.js';

// A measurement, not a benchmark gate: it prints figures and asserts only that the work was done.

function perSecond(iterations: number, work: () => void): number {
  work(); // warm-up
  const start = performance.now();
  for (let i = 0; i < iterations; i++) work();
  return Math.round((iterations * 1000) / (performance.now() - start));
}

describe('X.509 issuance throughput', () => {
  it('measures leaf issuance with an ECDSA P-256 CA against crypto.sign alone', () => {
    const caKeys = generateKeyPair('balanced', 'tls-ca');
    const now = Date.now();
    const ca = {
      certificatePem: issueCertificate(
        {
          serial: secureRandom.bytes(16),
          subject: { commonName: 'throughput CA' },
          notBefore: new Date(now - 60_000),
          notAfter: new Date(now + 86_400_000),
          publicKey: caKeys.publicKey,
          isCa: true,
          keyUsage: ['keyCertSign'],
        },
        { selfSigned: caKeys.privateKey },
      ),
      privateKey: caKeys.privateKey,
    };
    const subject = generateKeyPair('balanced', 'subject').publicKey;
    let last = '';
    const issue = () => {
      last = issueCertificate(
        {
          serial: secureRandom.bytes(16),
          subject: { commonName: 'bot-ci', organization: ['deployers'] },
          notBefore: new Date(now - 60_000),
          notAfter: new Date(now + 3_600_000),
          publicKey: subject,
          isCa: false,
          keyUsage: ['digitalSignature'],
          extendedKeyUsage: ['clientAuth'],
          dnsNames: ['bot-ci.example.test'],
        },
        ca,
      );
    };
    issue();
    // About the size of a leaf's TBSCertificate, which is what issuance signs.
    const data = parseCertificate(last).raw.subarray(0, 400);
    const iterations = 1000;
    const issued = perSecond(iterations, issue);
    const signed = perSecond(iterations, () => sign('sha256', data, caKeys.privateKey));
    console.log(
      `X.509 leaf issuance (ECDSA P-256 CA): ${issued}/s; crypto.sign(ECDSA P-256, 400 bytes) alone: ${signed}/s; ` +
        `ASN.1 building and checks take ${Math.round((1 - issued / signed) * 100)}% of issuance time`,
    );
    expect(parseCertificate(last).serialHex).toMatch(/^[0-9a-f]+$/);
    expect(issued).toBeGreaterThan(0);
  });
});
