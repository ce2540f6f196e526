import { createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { secureRandom } from '../../lib/core/random.js';
import { privateKeyToPem } from '../../lib/pki/key-encoding.js';
import { generateKeyPair } from '../../lib/pki/signature-suite.js';
import {
  DEFAULT_USER_EXTENSIONS,
  issueSshCertificate,
  parseSshCertificate,
  type SshCertificateTemplate,
} from '../../lib/pki/ssh-certificate.js';
import { sshFingerprint, toAuthorizedKey } from '../../lib/pki/ssh-public-key.js';
import { fixtureKey, pkiErrorCode, run, runStatus, tempDir } from './tools.js';

const VALID_AFTER = new Date('2030-06-01T11:59:00Z');
const VALID_BEFORE = new Date('2030-06-01T13:00:00Z');

function userTemplate(
  publicKey: KeyObject,
  overrides: Partial<SshCertificateTemplate> = {},
): SshCertificateTemplate {
  return {
    type: 'user',
    publicKey,
    serial: 9_007_199_254_740_993n, // above 2^53, so a lossy Number conversion would show
    keyId: 'bot-ci',
    principals: ['deploy', 'ubuntu'],
    validAfter: VALID_AFTER,
    validBefore: VALID_BEFORE,
    extensions: [...DEFAULT_USER_EXTENSIONS],
    nonce: secureRandom.bytes(32),
    ...overrides,
  };
}

let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => dir.cleanup());

const CAS: Array<[string, KeyObject, string, string]> = [
  ['Ed25519', generateKeyPair('balanced', 'ssh-ca').privateKey, 'ED25519', 'ssh-ed25519'],
  ['RSA', generateKeyPair('legacy', 'ssh-ca').privateKey, 'RSA', 'rsa-sha2-512'],
  [
    'ECDSA P-256',
    generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey,
    'ECDSA',
    'ecdsa-sha2-nistp256',
  ],
];

describe.each(CAS)('a user certificate signed by an %s CA', (_, caKey, caLabel, algorithm) => {
  const subject = generateKeyPair('balanced', 'subject');
  const line = issueSshCertificate(
    userTemplate(subject.publicKey, { criticalOptions: { 'source-address': '10.0.0.0/8,192.0.2.1' } }),
    caKey,
  );

  it('is read by ssh-keygen with every field as issued', () => {
    const output = run('ssh-keygen', ['-L', '-f', dir.write('key-cert.pub', `${line}\n`)]);
    expect(output).toContain('Type: ecdsa-sha2-nistp256-cert-v01@openssh.com user certificate');
    expect(output).toContain(`Public key: ECDSA-CERT ${sshFingerprint(subject.publicKey)}`);
    expect(output).toContain(`Signing CA: ${caLabel} ${sshFingerprint(caKey)} (using ${algorithm})`);
    expect(output).toContain('Key ID: "bot-ci"');
    expect(output).toContain('Serial: 9007199254740993');
    expect(output).toContain('Valid: from 2030-06-01T11:59:00 to 2030-06-01T13:00:00');
    expect(output).toMatch(/Principals: \n\s+deploy\n\s+ubuntu\n/);
    expect(output).toMatch(/Critical Options: \n\s+source-address 10\.0\.0\.0\/8,192\.0\.2\.1\n/);
    expect(output).toMatch(/Extensions: \n\s+permit-port-forwarding\n\s+permit-pty\n$/);
  });

  it('parses back to the same fields with a valid signature', () => {
    const parsed = parseSshCertificate(line);
    expect(parsed).toMatchObject({
      type: 'user',
      keyType: 'ecdsa-sha2-nistp256-cert-v01@openssh.com',
      serial: 9_007_199_254_740_993n,
      keyId: 'bot-ci',
      principals: ['deploy', 'ubuntu'],
      validAfter: VALID_AFTER,
      validBefore: VALID_BEFORE,
      criticalOptions: { 'source-address': '10.0.0.0/8,192.0.2.1' },
      extensions: ['permit-port-forwarding', 'permit-pty'],
      signatureValid: true,
    });
    expect(parsed.publicKey.equals(subject.publicKey)).toBe(true);
    expect(parsed.signatureKey.equals(createPublicKey(caKey))).toBe(true);
  });

  it('is refused by ssh-keygen and flagged by the parser once a signed byte is changed', () => {
    const blob = Buffer.from(line.split(' ')[1]!, 'base64');
    blob[blob.indexOf('bot-ci')] = 'B'.charCodeAt(0);
    const tampered = `${line.split(' ')[0]} ${blob.toString('base64')} bot-ci`;
    expect(parseSshCertificate(tampered).signatureValid).toBe(false);
    const result = runStatus('ssh-keygen', ['-L', '-f', dir.write('bad-cert.pub', `${tampered}\n`)]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain('incorrect signature');
  });
});

describe('host certificates', () => {
  it('are read by ssh-keygen as host certificates for the given names, with no options', () => {
    const ca = generateKeyPair('balanced', 'ssh-ca');
    const hostKey = generateKeyPair('balanced', 'subject');
    const line = issueSshCertificate(
      userTemplate(hostKey.publicKey, {
        type: 'host',
        keyId: 'host web-1',
        principals: ['web-1.example.test', '192.0.2.20'],
        extensions: [],
      }),
      ca.privateKey,
    );
    const output = run('ssh-keygen', ['-L', '-f', dir.write('host-cert.pub', `${line}\n`)]);
    expect(output).toContain('Type: ecdsa-sha2-nistp256-cert-v01@openssh.com host certificate');
    expect(output).toContain('Key ID: "host web-1"');
    expect(output).toMatch(/Principals: \n\s+web-1\.example\.test\n\s+192\.0\.2\.20\n/);
    expect(output).toMatch(/Critical Options: \(none\)\n\s+Extensions: \(none\)\n/);
    expect(line.endsWith(' host web-1')).toBe(true);
    expect(parseSshCertificate(line)).toMatchObject({
      type: 'host',
      keyId: 'host web-1',
      signatureValid: true,
    });
  });

  it('refuse extensions and critical options', () => {
    const ca = generateKeyPair('balanced', 'ssh-ca');
    const hostKey = generateKeyPair('balanced', 'subject').publicKey;
    expect(
      pkiErrorCode(() => issueSshCertificate(userTemplate(hostKey, { type: 'host' }), ca.privateKey)),
    ).toBe('invalid_ssh_template');
    const withOption = userTemplate(hostKey, {
      type: 'host',
      extensions: [],
      criticalOptions: { 'force-command': 'true' },
    });
    expect(pkiErrorCode(() => issueSshCertificate(withOption, ca.privateKey))).toBe('invalid_ssh_template');
  });
});

describe('interoperability with ssh-keygen -s', () => {
  it('issues byte for byte what ssh-keygen issues from the same inputs (RSA CA, deterministic signature)', () => {
    const caKey = fixtureKey('rsa2048-ca');
    const subject = createPublicKey(fixtureKey('p256-subject'));
    const caFile = dir.write('ca', privateKeyToPem(caKey));
    const pubFile = dir.write('user.pub', `${toAuthorizedKey(subject)}\n`);
    run('ssh-keygen', [
      '-q',
      '-s',
      caFile,
      '-I',
      'bot-ci',
      '-n',
      'deploy,ubuntu',
      '-V',
      '20300601115900:20300601130000',
      '-z',
      '1234605616436508552',
      '-O',
      'clear',
      '-O',
      'permit-pty',
      '-O',
      'permit-port-forwarding',
      '-O',
      'source-address=192.0.2.0/24',
      pubFile,
    ]);
    const theirs = readFileSync(dir.path('user-cert.pub'), 'utf8').trim();
    const blob = Buffer.from(theirs.split(' ')[1]!, 'base64');
    // The nonce is ssh-keygen's random choice; it is the first string after the type name.
    const nonceAt = 4 + blob.readUInt32BE(0);
    const nonce = blob.subarray(nonceAt + 4, nonceAt + 4 + blob.readUInt32BE(nonceAt));
    const ours = issueSshCertificate(
      {
        type: 'user',
        publicKey: subject,
        serial: 1234605616436508552n,
        keyId: 'bot-ci',
        principals: ['deploy', 'ubuntu'],
        validAfter: VALID_AFTER,
        validBefore: VALID_BEFORE,
        criticalOptions: { 'source-address': '192.0.2.0/24' },
        extensions: ['permit-pty', 'permit-port-forwarding'],
        nonce,
      },
      caKey,
    );
    expect(ours.split(' ').slice(0, 2)).toEqual(theirs.split(' ').slice(0, 2));
  });

  it('parses certificates that ssh-keygen issued, with Ed25519 and ECDSA CAs', () => {
    for (const type of ['ed25519', 'ecdsa']) {
      run('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', '', '-f', dir.path(`ca-${type}`)]);
      run('ssh-keygen', ['-q', '-t', 'ecdsa', '-N', '', '-C', '', '-f', dir.path(`user-${type}`)]);
      run('ssh-keygen', [
        '-q',
        '-s',
        dir.path(`ca-${type}`),
        '-I',
        'made by ssh-keygen',
        '-n',
        'alice,bob',
        '-V',
        '20300601115900:20300601130000',
        '-z',
        '7',
        '-O',
        'force-command=/bin/true',
        dir.path(`user-${type}.pub`),
      ]);
      const parsed = parseSshCertificate(readFileSync(dir.path(`user-${type}-cert.pub`), 'utf8'));
      expect(parsed).toMatchObject({
        type: 'user',
        keyId: 'made by ssh-keygen',
        serial: 7n,
        principals: ['alice', 'bob'],
        validAfter: VALID_AFTER,
        validBefore: VALID_BEFORE,
        criticalOptions: { 'force-command': '/bin/true' },
        extensions: [
          'permit-X11-forwarding',
          'permit-agent-forwarding',
          'permit-port-forwarding',
          'permit-pty',
          'permit-user-rc',
        ],
        signatureValid: true,
      });
    }
  });
});

describe('SSH certificate refusals', () => {
  const ca = generateKeyPair('balanced', 'ssh-ca').privateKey;
  const subject = generateKeyPair('balanced', 'subject').publicKey;
  const refusal = (overrides: Partial<SshCertificateTemplate>) =>
    pkiErrorCode(() => issueSshCertificate(userTemplate(subject, overrides), ca));

  it('refuses an empty principal list, which OpenSSH would read as "any principal"', () => {
    expect(refusal({ principals: [] })).toBe('invalid_ssh_template');
  });

  it.each([
    ['whitespace', 'deploy user'],
    ['a tab', 'deploy\tuser'],
    ['a comma', 'deploy,root'],
    ['a newline', 'deploy\nroot'],
    ['a NUL', 'deploy\u0000'],
    ['nothing', ''],
  ])('refuses a principal containing %s', (_, principal) => {
    expect(refusal({ principals: ['ok', principal] })).toBe('invalid_principal');
  });

  it('refuses validBefore at or before validAfter', () => {
    expect(refusal({ validBefore: VALID_AFTER })).toBe('invalid_validity');
    expect(refusal({ validBefore: new Date(VALID_AFTER.getTime() - 1000) })).toBe('invalid_validity');
    // Sub-second differences vanish in whole seconds, so they are refused too.
    expect(refusal({ validBefore: new Date(VALID_AFTER.getTime() + 500) })).toBe('invalid_validity');
  });

  it('refuses a key id with control characters', () => {
    expect(refusal({ keyId: 'bot\nci' })).toBe('invalid_ssh_template');
    expect(refusal({ keyId: '' })).toBe('invalid_ssh_template');
  });

  it('refuses a short nonce, an out-of-range serial and a malformed extension name', () => {
    expect(refusal({ nonce: Buffer.alloc(8) })).toBe('invalid_ssh_template');
    expect(refusal({ serial: 1n << 64n })).toBe('invalid_ssh_template');
    expect(refusal({ serial: -1n })).toBe('invalid_ssh_template');
    expect(refusal({ extensions: ['permit pty'] })).toBe('invalid_ssh_template');
    expect(refusal({ criticalOptions: { 'force-command': 'a\nb' } })).toBe('invalid_ssh_template');
  });

  it('refuses a private key where the subject public key belongs, and a public key as the CA', () => {
    const pair = generateKeyPair('balanced', 'subject');
    expect(pkiErrorCode(() => issueSshCertificate(userTemplate(pair.privateKey), ca))).toBe(
      'invalid_ssh_template',
    );
    expect(pkiErrorCode(() => issueSshCertificate(userTemplate(subject), pair.publicKey))).toBe(
      'invalid_issuer',
    );
  });

  it('refuses an RSA CA key under 2048 bits', () => {
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey;
    expect(pkiErrorCode(() => issueSshCertificate(userTemplate(subject), weak))).toBe('weak_issuer_key');
  });

  it('encodes extensions sorted by name, each once', () => {
    const line = issueSshCertificate(
      userTemplate(subject, {
        extensions: ['permit-pty', 'permit-X11-forwarding', 'permit-pty', 'permit-agent-forwarding'],
      }),
      ca,
    );
    expect(parseSshCertificate(line).extensions).toEqual([
      'permit-X11-forwarding',
      'permit-agent-forwarding',
      'permit-pty',
    ]);
  });

  it('grants nothing beyond the listed extensions when none are given', () => {
    const line = issueSshCertificate(userTemplate(subject, { extensions: undefined }), ca);
    const output = run('ssh-keygen', ['-L', '-f', dir.write('cert.pub', `${line}\n`)]);
    expect(output).toMatch(/Extensions: \(none\)\n/);
  });
});

describe('parseSshCertificate refusals', () => {
  it('refuses a plain public key, garbage and a certificate with trailing bytes', () => {
    const key = generateKeyPair('balanced', 'subject').publicKey;
    expect(pkiErrorCode(() => parseSshCertificate(toAuthorizedKey(key)))).toBe('malformed_ssh_certificate');
    expect(pkiErrorCode(() => parseSshCertificate('ssh-ed25519-cert-v01@openssh.com AAAA'))).toBe(
      'malformed_ssh_certificate',
    );
    const line = issueSshCertificate(userTemplate(key), generateKeyPair('balanced', 'ssh-ca').privateKey);
    const [type, base64] = line.split(' ');
    const extended = Buffer.concat([Buffer.from(base64!, 'base64'), Buffer.from([0])]).toString('base64');
    expect(pkiErrorCode(() => parseSshCertificate(`${type} ${extended}`))).toBe('malformed_ssh_certificate');
  });
});
