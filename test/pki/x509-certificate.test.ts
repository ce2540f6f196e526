import { generateKeyPairSync, type KeyObject, X509Certificate } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { secureRandom } from '../../lib/core/random.js';
import { generateKeyPair, SIGNATURE_SUITES } from '../../lib/pki/signature-suite.js';
import {
  type CertificateIssuer,
  type CertificateTemplate,
  issueCertificate,
  parseCertificate,
} from '../../lib/pki/x509-certificate.js';
import { pkiErrorCode, run, runStatus, tempDir } from './tools.js';

const CA_NOT_BEFORE = new Date('2030-01-01T00:00:00Z');
const CA_NOT_AFTER = new Date('2031-01-01T00:00:00Z');
const LEAF_NOT_BEFORE = new Date('2030-06-01T11:59:00Z');
const LEAF_NOT_AFTER = new Date('2030-06-01T13:00:00Z');
// openssl checks validity against the current time unless told otherwise; these tests fix it.
const VERIFY_AT = String(Date.parse('2030-06-01T12:30:00Z') / 1000);

function makeCa(privateKey: KeyObject, publicKey: KeyObject, overrides: Partial<CertificateTemplate> = {}) {
  const certificatePem = issueCertificate(
    {
      serial: secureRandom.bytes(16),
      subject: { commonName: 'example.test user CA', organization: ['example.test'] },
      notBefore: CA_NOT_BEFORE,
      notAfter: CA_NOT_AFTER,
      publicKey,
      isCa: true,
      keyUsage: ['keyCertSign', 'cRLSign', 'digitalSignature'],
      ...overrides,
    },
    { selfSigned: privateKey },
  );
  return { certificatePem, privateKey } satisfies CertificateIssuer;
}

function leafTemplate(
  publicKey: KeyObject,
  overrides: Partial<CertificateTemplate> = {},
): CertificateTemplate {
  return {
    serial: Buffer.from('8f0e1d2c3b4a59687766554433221100', 'hex'),
    subject: { commonName: 'bot-ci', organization: ['deployers', 'readers'] },
    notBefore: LEAF_NOT_BEFORE,
    notAfter: LEAF_NOT_AFTER,
    publicKey,
    isCa: false,
    keyUsage: ['digitalSignature'],
    extendedKeyUsage: ['clientAuth'],
    dnsNames: ['bot-ci.example.test'],
    ipAddresses: ['10.1.2.3', '2001:db8::42'],
    uris: ['spiffe://example.test/bot/ci'],
    ...overrides,
  };
}

let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => dir.cleanup());

describe.each(SIGNATURE_SUITES)('X.509 issuance with the %s suite', (suite) => {
  const caKeys = generateKeyPair(suite, 'tls-ca');
  const ca = makeCa(caKeys.privateKey, caKeys.publicKey);
  const subject = generateKeyPair(suite, 'subject');
  const leaf = issueCertificate(leafTemplate(subject.publicKey), ca);

  it('issues a leaf that openssl verifies against the CA', () => {
    const caFile = dir.write('ca.pem', ca.certificatePem);
    const leafFile = dir.write('leaf.pem', leaf);
    expect(run('openssl', ['verify', '-attime', VERIFY_AT, '-CAfile', caFile, leafFile])).toBe(
      `${leafFile}: OK\n`,
    );
  });

  it('issues a CA that openssl shows as a CA allowed to sign certificates', () => {
    const text = run('openssl', ['x509', '-text', '-noout', '-in', dir.write('ca.pem', ca.certificatePem)]);
    expect(text).toMatch(/X509v3 Basic Constraints: critical\n\s+CA:TRUE\n/);
    expect(text).toMatch(/X509v3 Key Usage: critical\n\s+Digital Signature, Certificate Sign, CRL Sign\n/);
    expect(text).toContain('Issuer: O = example.test, CN = example.test user CA');
    expect(text).toContain('Subject: O = example.test, CN = example.test user CA');
  });

  it('puts exactly the requested fields in the leaf, as openssl reads them', () => {
    const text = run('openssl', ['x509', '-text', '-noout', '-in', dir.write('leaf.pem', leaf)]);
    expect(text).toMatch(/X509v3 Basic Constraints: critical\n\s+CA:FALSE\n/);
    expect(text).toMatch(/X509v3 Key Usage: critical\n\s+Digital Signature\n/);
    expect(text).toMatch(/X509v3 Extended Key Usage: \n\s+TLS Web Client Authentication\n/);
    expect(text).toMatch(
      /X509v3 Subject Alternative Name: \n\s+DNS:bot-ci\.example\.test, IP Address:10\.1\.2\.3, IP Address:2001:DB8:0:0:0:0:0:42, URI:spiffe:\/\/example\.test\/bot\/ci\n/,
    );
    expect(text).toMatch(/Serial Number:\n\s+8f:0e:1d:2c:3b:4a:59:68:77:66:55:44:33:22:11:00\n/);
    expect(text).toContain('Subject: O = deployers, O = readers, CN = bot-ci');
    expect(text).toContain('Not Before: Jun  1 11:59:00 2030 GMT');
    expect(text).toContain('Not After : Jun  1 13:00:00 2030 GMT');
    expect(text).toContain(
      suite === 'balanced'
        ? 'Signature Algorithm: ecdsa-with-SHA256'
        : 'Signature Algorithm: sha256WithRSAEncryption',
    );
    // Nothing beyond the six extensions asked for.
    expect(text.match(/X509v3 [A-Za-z ]+:/g)).toEqual([
      'X509v3 extensions:',
      'X509v3 Basic Constraints:',
      'X509v3 Key Usage:',
      'X509v3 Extended Key Usage:',
      'X509v3 Subject Alternative Name:',
      'X509v3 Subject Key Identifier:',
      'X509v3 Authority Key Identifier:',
    ]);
  });

  it("names the CA's subject key identifier as the leaf's authority key identifier", () => {
    const caText = run('openssl', ['x509', '-text', '-noout', '-in', dir.write('ca.pem', ca.certificatePem)]);
    const leafText = run('openssl', ['x509', '-text', '-noout', '-in', dir.write('leaf.pem', leaf)]);
    const caSki = /Subject Key Identifier: \n\s+([0-9A-F:]+)\n/.exec(caText)?.[1];
    expect(caSki).toMatch(/^([0-9A-F]{2}:){19}[0-9A-F]{2}$/);
    expect(leafText).toMatch(new RegExp(`Authority Key Identifier: \\n\\s+${caSki}\\n`));
  });

  it('gives parseCertificate the same view as openssl', () => {
    const parsed = parseCertificate(leaf);
    const serial = run('openssl', ['x509', '-serial', '-noout', '-in', dir.write('leaf.pem', leaf)]);
    expect(serial).toBe(`serial=${parsed.serialHex.toUpperCase()}\n`);
    expect(parsed).toMatchObject({
      serialHex: '8f0e1d2c3b4a59687766554433221100',
      subject: 'O=deployers\nO=readers\nCN=bot-ci',
      issuer: 'O=example.test\nCN=example.test user CA',
      notBefore: LEAF_NOT_BEFORE,
      notAfter: LEAF_NOT_AFTER,
      isCa: false,
      subjectAltName:
        'DNS:bot-ci.example.test, IP Address:10.1.2.3, IP Address:2001:DB8:0:0:0:0:0:42, URI:spiffe://example.test/bot/ci',
    });
    expect(parsed.publicKey.equals(subject.publicKey)).toBe(true);
    expect(new X509Certificate(parsed.raw).verify(caKeys.publicKey)).toBe(true);
  });
});

describe('X.509 refusals', () => {
  const caKeys = generateKeyPair('balanced', 'tls-ca');
  const ca = makeCa(caKeys.privateKey, caKeys.publicKey);
  const subject = generateKeyPair('balanced', 'subject');

  it("refuses a leaf whose notAfter is past the CA's notAfter", () => {
    const template = leafTemplate(subject.publicKey, { notAfter: new Date(CA_NOT_AFTER.getTime() + 1000) });
    expect(pkiErrorCode(() => issueCertificate(template, ca))).toBe('not_after_past_issuer');
  });

  it("accepts a leaf that ends exactly at the CA's notAfter", () => {
    const leaf = issueCertificate(leafTemplate(subject.publicKey, { notAfter: CA_NOT_AFTER }), ca);
    expect(parseCertificate(leaf).notAfter).toEqual(CA_NOT_AFTER);
  });

  it('refuses a 15-byte serial', () => {
    const template = leafTemplate(subject.publicKey, { serial: secureRandom.bytes(15) });
    expect(pkiErrorCode(() => issueCertificate(template, ca))).toBe('serial_too_short');
  });

  it('refuses an all-zero serial and one too long to encode in 20 octets', () => {
    expect(
      pkiErrorCode(() => issueCertificate(leafTemplate(subject.publicKey, { serial: Buffer.alloc(16) }), ca)),
    ).toBe('invalid_serial');
    const tooLong = Buffer.alloc(20, 0xff);
    expect(
      pkiErrorCode(() => issueCertificate(leafTemplate(subject.publicKey, { serial: tooLong }), ca)),
    ).toBe('invalid_serial');
  });

  it('refuses notAfter at or before notBefore', () => {
    for (const notAfter of [LEAF_NOT_BEFORE, new Date(LEAF_NOT_BEFORE.getTime() - 1000)]) {
      const template = leafTemplate(subject.publicKey, { notAfter });
      expect(pkiErrorCode(() => issueCertificate(template, ca))).toBe('invalid_validity');
    }
  });

  it.each([
    ['a newline in the common name', { subject: { commonName: 'bot\nCN=admin' } }],
    ['a NUL in the common name', { subject: { commonName: 'bot\u0000admin' } }],
    ['a C1 control in an organization', { subject: { commonName: 'bot', organization: ['ops\u0085'] } }],
    [
      'a line separator in an organizational unit',
      { subject: { commonName: 'bot', organizationalUnit: ['a\u2028b'] } },
    ],
    ['an unpaired surrogate', { subject: { commonName: 'bot\ud800' } }],
    ['an empty common name', { subject: { commonName: '' } }],
    ['surrounding whitespace', { subject: { commonName: ' admin' } }],
    ['a 65-character common name', { subject: { commonName: 'a'.repeat(65) } }],
    ['a DNS name with a space', { dnsNames: ['bot ci.example.test'] }],
    ['a DNS name with a control character', { dnsNames: ['bot\r.example.test'] }],
    ['a DNS name that is an IP address', { dnsNames: ['10.0.0.1'] }],
    ['a wildcard that is not the whole leftmost label', { dnsNames: ['b*.example.test'] }],
    ['an IPv6 address with a zone id', { ipAddresses: ['fe80::1%eth0'] }],
    ['something that is not an IP address', { ipAddresses: ['10.0.0.256'] }],
    ['a URI with non-ASCII characters', { uris: ['spiffe://example.test/bü'] }],
    ['a relative URI', { uris: ['bot/ci'] }],
  ] as Array<[string, Partial<CertificateTemplate>]>)('refuses %s', (_, overrides) => {
    expect(pkiErrorCode(() => issueCertificate(leafTemplate(subject.publicKey, overrides), ca))).toBe(
      'invalid_name',
    );
  });

  it('refuses CA-only key usages on a leaf and a CA without keyCertSign', () => {
    expect(
      pkiErrorCode(() =>
        issueCertificate(
          leafTemplate(subject.publicKey, { keyUsage: ['digitalSignature', 'keyCertSign'] }),
          ca,
        ),
      ),
    ).toBe('invalid_template');
    expect(
      pkiErrorCode(() =>
        makeCa(caKeys.privateKey, caKeys.publicKey, { keyUsage: ['digitalSignature', 'cRLSign'] }),
      ),
    ).toBe('invalid_template');
  });

  it('refuses keyEncipherment for an EC key and accepts it for an RSA key', () => {
    const usage: CertificateTemplate['keyUsage'] = ['digitalSignature', 'keyEncipherment'];
    expect(
      pkiErrorCode(() => issueCertificate(leafTemplate(subject.publicKey, { keyUsage: usage }), ca)),
    ).toBe('invalid_template');
    const rsa = generateKeyPair('legacy', 'subject');
    const leaf = issueCertificate(leafTemplate(rsa.publicKey, { keyUsage: usage }), ca);
    const text = run('openssl', ['x509', '-text', '-noout', '-in', dir.write('leaf.pem', leaf)]);
    expect(text).toMatch(/X509v3 Key Usage: critical\n\s+Digital Signature, Key Encipherment\n/);
  });

  it('refuses an empty extendedKeyUsage list rather than leaving the certificate good for any purpose', () => {
    const template = leafTemplate(subject.publicKey, { extendedKeyUsage: [] });
    expect(pkiErrorCode(() => issueCertificate(template, ca))).toBe('invalid_template');
  });

  it('refuses to sign with a key that does not belong to the issuer certificate', () => {
    const other = generateKeyPair('balanced', 'tls-ca');
    const forged = { certificatePem: ca.certificatePem, privateKey: other.privateKey };
    expect(pkiErrorCode(() => issueCertificate(leafTemplate(subject.publicKey), forged))).toBe(
      'issuer_key_mismatch',
    );
    expect(
      pkiErrorCode(() => makeCa(other.privateKey, caKeys.publicKey)),
      'self-signed with the wrong key',
    ).toBe('issuer_key_mismatch');
  });

  it('refuses to let a leaf certificate act as an issuer', () => {
    const leafKeys = generateKeyPair('balanced', 'tls-ca');
    const leaf = issueCertificate(leafTemplate(leafKeys.publicKey), ca);
    const asIssuer = { certificatePem: leaf, privateKey: leafKeys.privateKey };
    expect(pkiErrorCode(() => issueCertificate(leafTemplate(subject.publicKey), asIssuer))).toBe(
      'invalid_issuer',
    );
  });

  it('refuses a private key where the subject public key belongs', () => {
    const template = leafTemplate(subject.privateKey);
    expect(pkiErrorCode(() => issueCertificate(template, ca))).toBe('invalid_template');
  });

  it('refuses subject keys of unsupported types', () => {
    const k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).publicKey;
    expect(pkiErrorCode(() => issueCertificate(leafTemplate(k1), ca))).toBe('unsupported_key_type');
  });
});

describe('X.509 encoding details', () => {
  const caKeys = generateKeyPair('balanced', 'tls-ca');
  const subject = generateKeyPair('balanced', 'subject');

  it('writes UTCTime before 2050 and GeneralizedTime from 2050, as RFC 5280 requires', () => {
    const ca = makeCa(caKeys.privateKey, caKeys.publicKey, { notAfter: new Date('2050-01-01T00:00:00Z') });
    const dump = run('openssl', ['asn1parse', '-in', dir.write('ca.pem', ca.certificatePem)]);
    expect(dump).toContain('UTCTIME           :300101000000Z');
    expect(dump).toContain('GENERALIZEDTIME   :20500101000000Z');
    expect(parseCertificate(ca.certificatePem).notAfter).toEqual(new Date('2050-01-01T00:00:00Z'));
  });

  it('truncates dates to whole seconds rather than extending them', () => {
    const ca = makeCa(caKeys.privateKey, caKeys.publicKey);
    const leaf = issueCertificate(
      leafTemplate(subject.publicKey, { notAfter: new Date('2030-06-01T13:00:00.999Z') }),
      ca,
    );
    expect(parseCertificate(leaf).notAfter).toEqual(new Date('2030-06-01T13:00:00Z'));
  });

  it('encodes a serial with the high bit set as a positive INTEGER, and drops leading zero bytes', () => {
    const ca = makeCa(caKeys.privateKey, caKeys.publicKey);
    const high = Buffer.from('ff'.repeat(16), 'hex');
    const leafHigh = issueCertificate(leafTemplate(subject.publicKey, { serial: high }), ca);
    const dump = run('openssl', ['asn1parse', '-in', dir.write('high.pem', leafHigh)]);
    expect(dump).toContain(`INTEGER           :${'FF'.repeat(16)}\n`);
    // Tag 02, length 17, then the 0x00 that keeps the value positive.
    expect(new X509Certificate(leafHigh).raw.subarray(13, 32)).toEqual(
      Buffer.from(`021100${'ff'.repeat(16)}`, 'hex'),
    );
    const padded = Buffer.concat([Buffer.from([0, 0]), Buffer.from('7f'.repeat(14), 'hex')]);
    const leafPadded = issueCertificate(leafTemplate(subject.publicKey, { serial: padded }), ca);
    expect(parseCertificate(leafPadded).serialHex).toBe('7f'.repeat(14));
  });

  it('encodes names as UTF8String and keeps non-ASCII text intact', () => {
    const ca = makeCa(caKeys.privateKey, caKeys.publicKey);
    const leaf = issueCertificate(
      leafTemplate(subject.publicKey, { subject: { commonName: 'büro-機械' } }),
      ca,
    );
    const file = dir.write('leaf.pem', leaf);
    expect(run('openssl', ['asn1parse', '-in', file])).toMatch(/:commonName\n.*UTF8STRING/);
    expect(
      run('openssl', ['x509', '-noout', '-subject', '-nameopt', 'utf8,sep_comma_plus', '-in', file]),
    ).toBe('subject=CN=büro-機械\n');
  });

  it('builds a root, an intermediate and a leaf that openssl verifies as a chain', () => {
    const root = makeCa(caKeys.privateKey, caKeys.publicKey, { pathLength: 1 });
    const intermediateKeys = generateKeyPair('balanced', 'tls-ca');
    const intermediatePem = issueCertificate(
      {
        serial: secureRandom.bytes(16),
        subject: { commonName: 'intermediate' },
        notBefore: CA_NOT_BEFORE,
        notAfter: CA_NOT_AFTER,
        publicKey: intermediateKeys.publicKey,
        isCa: true,
        pathLength: 0,
        keyUsage: ['keyCertSign'],
      },
      root,
    );
    const intermediate = { certificatePem: intermediatePem, privateKey: intermediateKeys.privateKey };
    const leaf = issueCertificate(leafTemplate(subject.publicKey), intermediate);
    const args = ['verify', '-attime', VERIFY_AT, '-CAfile', dir.write('root.pem', root.certificatePem)];
    const leafFile = dir.write('leaf.pem', leaf);
    expect(run('openssl', [...args, '-untrusted', dir.write('int.pem', intermediatePem), leafFile])).toBe(
      `${leafFile}: OK\n`,
    );
    // pathlen:0 on the intermediate forbids another CA below it.
    const deeper = {
      serial: secureRandom.bytes(16),
      subject: { commonName: 'too deep' },
      notBefore: CA_NOT_BEFORE,
      notAfter: CA_NOT_AFTER,
      publicKey: subject.publicKey,
      isCa: true,
      keyUsage: ['keyCertSign'],
    } satisfies CertificateTemplate;
    expect(pkiErrorCode(() => issueCertificate(deeper, intermediate))).toBe('invalid_template');
  });

  it('is refused by openssl one second after its notAfter', () => {
    const ca = makeCa(caKeys.privateKey, caKeys.publicKey);
    const leaf = issueCertificate(leafTemplate(subject.publicKey), ca);
    const after = String(Date.parse('2030-06-01T13:00:01Z') / 1000);
    const result = runStatus('openssl', [
      'verify',
      '-attime',
      after,
      '-CAfile',
      dir.write('ca.pem', ca.certificatePem),
      dir.write('leaf.pem', leaf),
    ]);
    expect(result.status).not.toBe(0);
    expect(result.stdout + result.stderr).toContain('certificate has expired');
  });

  it('signs with Ed25519 when the issuer key is Ed25519', () => {
    const ed = generateKeyPair('balanced', 'ssh-ca');
    const ca = makeCa(ed.privateKey, ed.publicKey);
    const leaf = issueCertificate(leafTemplate(subject.publicKey), ca);
    const caFile = dir.write('ca.pem', ca.certificatePem);
    const leafFile = dir.write('leaf.pem', leaf);
    expect(run('openssl', ['x509', '-text', '-noout', '-in', leafFile])).toContain(
      'Signature Algorithm: ED25519',
    );
    expect(run('openssl', ['verify', '-attime', VERIFY_AT, '-CAfile', caFile, leafFile])).toBe(
      `${leafFile}: OK\n`,
    );
  });

  it('signs with ecdsa-with-SHA384 when the issuer key is P-384', () => {
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const ca = makeCa(p384.privateKey, p384.publicKey);
    const leafFile = dir.write('leaf.pem', issueCertificate(leafTemplate(subject.publicKey), ca));
    expect(run('openssl', ['x509', '-text', '-noout', '-in', leafFile])).toContain(
      'Signature Algorithm: ecdsa-with-SHA384',
    );
    const caFile = dir.write('ca.pem', ca.certificatePem);
    expect(run('openssl', ['verify', '-attime', VERIFY_AT, '-CAfile', caFile, leafFile])).toBe(
      `${leafFile}: OK\n`,
    );
  });
});

describe('serial entropy', () => {
  it('draws 1,000 distinct 16-byte serials from secureRandom', () => {
    const serials = Array.from({ length: 1000 }, () => secureRandom.bytes(16));
    expect(serials.every((serial) => serial.length === 16)).toBe(true);
    expect(new Set(serials.map((serial) => serial.toString('hex'))).size).toBe(1000);
  });
});
