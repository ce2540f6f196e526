import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { caPin, spkiSha256Hex } from '../../lib/pki/ca-pin.js';
import { generateKeyPair, SIGNATURE_SUITES } from '../../lib/pki/signature-suite.js';
import { pkiErrorCode, run, runBytes, selfSignedTestCa, tempDir } from './tools.js';

let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => dir.cleanup());

describe.each([...SIGNATURE_SUITES, 'Ed25519'] as const)('the CA pin of a %s CA', (suite) => {
  const { keys, certificatePem } = selfSignedTestCa(suite, 'pin test CA');

  it('equals `openssl x509 -pubkey | openssl pkey -pubin -outform DER | sha256sum`', () => {
    const pubkey = run('openssl', ['x509', '-pubkey', '-noout', '-in', dir.write('ca.pem', certificatePem)]);
    const der = runBytes('openssl', ['pkey', '-pubin', '-outform', 'DER'], pubkey);
    const [digest] = run('sha256sum', [], der).split(' ');
    expect(caPin(certificatePem)).toBe(`sha256:${digest}`);
  });

  it("equals the pin computed from the CA's key", () => {
    expect(caPin(certificatePem)).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(caPin(certificatePem)).toBe(`sha256:${spkiSha256Hex(keys.publicKey)}`);
    expect(spkiSha256Hex(keys.privateKey)).toBe(spkiSha256Hex(keys.publicKey));
  });
});

describe('caPin refusals', () => {
  it('refuses something that is not a certificate', () => {
    const key = generateKeyPair('balanced', 'subject').publicKey.export({
      type: 'spki',
      format: 'pem',
    }) as string;
    expect(pkiErrorCode(() => caPin(key))).toBe('malformed_certificate');
    expect(pkiErrorCode(() => caPin('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'))).toBe(
      'malformed_certificate',
    );
  });
});
