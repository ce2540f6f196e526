import { describe, expect, it } from 'vitest';
import { IdentityFormatError, parseIdentity } from '../../lib/consumer/index.js';
import { issueTlsFiles, type TlsFiles } from './tls-files.js';

const SECRET = 'machine-id/ci/billing';
const BALANCED = issueTlsFiles();
const OTHER = issueTlsFiles();
const LEGACY = issueTlsFiles({ suite: 'legacy' });

function secretOf(files: Record<string, string>): string {
  return JSON.stringify({
    ...files,
    expires_at: '2030-01-01T01:00:00.000Z',
    issued_at: '2030-01-01T00:00:00.000Z',
    bot: 'ci',
    output: 'application billing',
    serial: 'serial-1',
  });
}

/** The base64 lines of every key made here: none may show up in a message. */
const KEY_LINES = [BALANCED, OTHER, LEGACY].flatMap(({ key }) =>
  key.split('\n').filter((line) => line !== '' && !line.startsWith('-----')),
);

/** The first two lines of a certificate and its end line, as a paste that stopped early leaves it. */
function cutShort(pem: string): string {
  const lines = pem.trim().split('\n');
  return [...lines.slice(0, 3), lines.at(-1), ''].join('\n');
}

function refusal(files: Record<string, string>): IdentityFormatError {
  try {
    parseIdentity(secretOf(files), SECRET);
  } catch (error) {
    expect(error).toBeInstanceOf(IdentityFormatError);
    const refused = error as IdentityFormatError;
    expect(refused.code).toBe('identity_format_invalid');
    expect(refused.secretId).toBe(SECRET);
    expect(refused.message).toContain(`secret ${SECRET}`);
    expect(refused.message).toContain('let the bot write the secret again');
    for (const line of KEY_LINES) expect(refused.message).not.toContain(line);
    expect(refused.message).not.toContain('-----');
    return refused;
  }
  throw new Error('expected an IdentityFormatError');
}

describe("an identity's tlscert and key", () => {
  it.each([
    ['a P-256 certificate with its key (balanced suite)', BALANCED],
    ['an RSA certificate with its key (legacy suite)', LEGACY],
  ])('accepts %s', (_what, files: TlsFiles) => {
    const identity = parseIdentity(secretOf({ ...files }), SECRET);

    expect(identity).toMatchObject({ tlsCert: files.tlscert, key: files.key, tlsCaCerts: files.tlscacerts });
  });

  it('accepts an output without either, as an ssh_host output is', () => {
    const identity = parseIdentity(secretOf({ ssh_host: 'ssh host key\n' }), SECRET);

    expect(identity.files).toEqual({ ssh_host: 'ssh host key\n' });
  });

  it.each([
    ['the key of another certificate', { ...BALANCED, key: OTHER.key }],
    ['a key of another type (RSA with a P-256 certificate)', { ...BALANCED, key: LEGACY.key }],
  ])('refuses %s, naming both keys of the secret', (_what, files) => {
    expect(refusal(files).message).toBe(
      `secret ${SECRET} is not a midbot identity: key "key" is not the private key of the certificate in key "tlscert", so mutual TLS cannot use the pair; let the bot write the secret again (it runs on its schedule, or now with \`aws lambda invoke\`)`,
    );
  });

  it.each([
    [
      'garbage between the PEM lines',
      '-----BEGIN CERTIFICATE-----\nnot a certificate\n-----END CERTIFICATE-----\n',
    ],
    ['a PEM line and nothing after it', '-----BEGIN CERTIFICATE-----\n'],
    ['a certificate cut short', cutShort(BALANCED.tlscert)],
  ])('refuses a tlscert that holds %s', (_what, tlscert) => {
    expect(refusal({ ...BALANCED, tlscert }).message).toMatch(
      /^secret machine-id\/ci\/billing is not a midbot identity: key "tlscert": expected a PEM certificate, but OpenSSL cannot read it as one \(ERR_OSSL_[A-Z0-9_]+\)/,
    );
  });

  it('refuses a key OpenSSL cannot read, without quoting it', () => {
    const key = '-----BEGIN PRIVATE KEY-----\nPRIVATE-KEY-MATERIAL\n-----END PRIVATE KEY-----\n';

    const refused = refusal({ ...BALANCED, key });

    expect(refused.message).toMatch(
      /^secret machine-id\/ci\/billing is not a midbot identity: key "key": expected an unencrypted PEM private key, but OpenSSL cannot read it as one \(ERR_OSSL_[A-Z0-9_]+\)/,
    );
    expect(refused.message).not.toContain('PRIVATE-KEY-MATERIAL');
  });

  it('refuses a garbage tlscert when the output has no key too', () => {
    const refused = refusal({ tlscert: '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n' });

    expect(refused.message).toMatch(/key "tlscert": expected a PEM certificate/);
  });
});
