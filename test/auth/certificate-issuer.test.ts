import { describe, expect, it } from 'vitest';
import { loadOrCreateCas } from '../../lib/auth/certificate-authorities.js';
import { CertificateIssuer } from '../../lib/auth/certificate-issuer.js';
import { systemClock } from '../../lib/core/clock.js';
import { secureRandom } from '../../lib/core/random.js';
import { generateKeyPair, type SignatureSuiteName } from '../../lib/pki/signature-suite.js';
import { runCommand } from '../support/run-command.js';
import { MemoryCaStore } from './auth-fixture.js';

/** The Key Usage extension as openssl prints it. */
async function keyUsage(pem: string): Promise<string> {
  const result = await runCommand('openssl', ['x509', '-noout', '-ext', 'keyUsage'], { input: pem });
  expect(result.code, result.stderr).toBe(0);
  return result.stdout.split('\n').slice(1).join(' ').trim();
}

/** SECURITY rule 9: minimal key usage for each kind of leaf, in both signature suites. */
describe.each<SignatureSuiteName>(['balanced', 'legacy'])('key usage of %s leaves', (suite) => {
  const setup = async () => {
    const cas = await loadOrCreateCas(new MemoryCaStore(), {
      clusterName: 'example.test',
      suite,
      clock: systemClock,
      random: secureRandom,
    });
    const now = systemClock.now();
    return {
      issuer: new CertificateIssuer(cas, systemClock, secureRandom),
      publicKey: generateKeyPair(suite, 'subject').publicKey,
      validity: { notBefore: new Date(now - 60_000), notAfter: new Date(now + 3_600_000) },
    };
  };

  it('gives a client certificate digitalSignature only: a client never decrypts with its key', async () => {
    const { issuer, publicKey, validity } = await setup();
    const client = issuer.issueClientCertificate({
      publicKey,
      subject: { commonName: 'bot-robot' },
      validity,
    });
    expect(await keyUsage(client.pem)).toBe('Digital Signature');
  });

  it('adds keyEncipherment to a server certificate only for an RSA key (RSA key transport)', async () => {
    const { issuer, publicKey } = await setup();
    const server = issuer.issueServerCertificate({
      publicKey,
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
      ttlMs: 3_600_000,
    });
    expect(await keyUsage(server.pem)).toBe(
      suite === 'legacy' ? 'Digital Signature, Key Encipherment' : 'Digital Signature',
    );
  });
});

/** SECURITY rule 9: a lifetime that is not a positive number of milliseconds gets no certificate. */
describe('certificate lifetimes', () => {
  it.each([0, -1, Number.NaN])('refuses a TTL of %s ms as invalid_ttl', async (ttlMs) => {
    const cas = await loadOrCreateCas(new MemoryCaStore(), {
      clusterName: 'example.test',
      suite: 'balanced',
      clock: systemClock,
      random: secureRandom,
    });
    const issuer = new CertificateIssuer(cas, systemClock, secureRandom);
    expect(() => issuer.validity(ttlMs)).toThrow(expect.objectContaining({ code: 'invalid_ttl' }));
  });
});
