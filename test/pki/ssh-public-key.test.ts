import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { generateKeyPair } from '../../lib/pki/signature-suite.js';
import {
  parseAuthorizedKey,
  sshFingerprint,
  toAuthorizedKey,
  toSshPublicKeyBlob,
} from '../../lib/pki/ssh-public-key.js';
import { pkiErrorCode, run, tempDir } from './tools.js';

let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => dir.cleanup());

const KEYS: Array<[string, KeyObject]> = [
  ['ssh-ed25519', generateKeyPair('balanced', 'ssh-ca').publicKey],
  ['ecdsa-sha2-nistp256', generateKeyPair('balanced', 'subject').publicKey],
  ['ecdsa-sha2-nistp384', generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey],
  ['ssh-rsa', generateKeyPair('legacy', 'subject').publicKey],
];

describe.each(KEYS)('%s public keys', (type, key) => {
  it('round-trip through toAuthorizedKey and parseAuthorizedKey', () => {
    const line = toAuthorizedKey(key, 'bot ci@example');
    expect(line.startsWith(`${type} AAAA`)).toBe(true);
    expect(line.endsWith(' bot ci@example')).toBe(true);
    expect(parseAuthorizedKey(line).equals(key)).toBe(true);
  });

  it('have the fingerprint ssh-keygen -l prints', () => {
    const file = dir.write('key.pub', `${toAuthorizedKey(key, 'c')}\n`);
    const [, fingerprint] = run('ssh-keygen', ['-l', '-f', file]).split(' ');
    expect(sshFingerprint(key)).toBe(fingerprint);
  });
});

describe('keys written by ssh-keygen', () => {
  it.each([
    ['ed25519', []],
    ['ecdsa', ['-b', '256']],
    ['ecdsa', ['-b', '384']],
    ['rsa', ['-b', '2048']],
  ])('parses a %s %s key and writes the same line back', (type, bits) => {
    const path = dir.path(`id_${type}${bits.join('')}`);
    run('ssh-keygen', ['-q', '-t', type, ...bits, '-N', '', '-C', 'made-by-ssh-keygen', '-f', path]);
    const line = readFileSync(`${path}.pub`, 'utf8').trim();
    const key = parseAuthorizedKey(line);
    expect(toAuthorizedKey(key, 'made-by-ssh-keygen')).toBe(line);
  });
});

describe('parseAuthorizedKey refusals', () => {
  const ed = generateKeyPair('balanced', 'ssh-ca').publicKey;
  const blob = toSshPublicKeyBlob(ed);

  it.each([
    ['garbage', 'not a key'],
    ['bad base64', 'ssh-ed25519 AAAA!!!!'],
    ['a type that does not match the blob', `ecdsa-sha2-nistp256 ${blob.toString('base64')}`],
    [
      'trailing bytes in the blob',
      `ssh-ed25519 ${Buffer.concat([blob, Buffer.from([1])]).toString('base64')}`,
    ],
    ['a truncated blob', `ssh-ed25519 ${blob.subarray(0, blob.length - 1).toString('base64')}`],
    ['two lines', `${toAuthorizedKey(ed)}\n${toAuthorizedKey(ed)}`],
    ['authorized_keys options', `no-pty ${toAuthorizedKey(ed)}`],
    ['an oversized line', `ssh-ed25519 ${'A'.repeat(20_000)}`],
  ])('refuses %s', (_, line) => {
    expect(pkiErrorCode(() => parseAuthorizedKey(line))).toBe('malformed_ssh_public_key');
  });

  it('refuses DSA keys', () => {
    const dsaLine = `ssh-dss ${Buffer.concat([Buffer.from([0, 0, 0, 7]), Buffer.from('ssh-dss')]).toString('base64')}`;
    expect(pkiErrorCode(() => parseAuthorizedKey(dsaLine))).toBe('malformed_ssh_public_key');
  });

  it('refuses an ECDSA point that is not on the curve', () => {
    const good = toSshPublicKeyBlob(generateKeyPair('balanced', 'subject').publicKey);
    const bad = Buffer.from(good);
    bad[bad.length - 1] = bad[bad.length - 1]! ^ 1;
    expect(pkiErrorCode(() => parseAuthorizedKey(`ecdsa-sha2-nistp256 ${bad.toString('base64')}`))).toBe(
      'malformed_ssh_public_key',
    );
  });

  it('refuses a comment that would break the line', () => {
    expect(pkiErrorCode(() => toAuthorizedKey(ed, 'a\nb'))).toBe('invalid_ssh_comment');
  });
});
