import type { KeyObject } from 'node:crypto';
import type { SshCertificateTemplate } from '../../lib/pki/ssh-certificate.js';
import type { CertificateTemplate } from '../../lib/pki/x509-certificate.js';

/**
 * The fixed inputs of the known-answer tests: fixed keys (test/pki/fixtures), fixed dates, fixed
 * serials and nonces. Changing anything here changes the expected answers in known-answers.test.ts.
 */

export const SERIAL_CA = Buffer.from('0102030405060708090a0b0c0d0e0f10', 'hex');
export const SERIAL_LEAF = Buffer.from('a1b2c3d4e5f60718293a4b5c6d7e8f90', 'hex');

export function caTemplate(publicKey: KeyObject, commonName: string): CertificateTemplate {
  return {
    serial: SERIAL_CA,
    subject: { commonName, organization: ['example.test'] },
    notBefore: new Date('2030-01-01T00:00:00Z'),
    notAfter: new Date('2035-01-01T00:00:00Z'),
    publicKey,
    isCa: true,
    pathLength: 0,
    keyUsage: ['keyCertSign', 'cRLSign'],
  };
}

export function leafTemplate(publicKey: KeyObject): CertificateTemplate {
  return {
    serial: SERIAL_LEAF,
    subject: { commonName: 'bot-ci', organization: ['system:masters', 'deployers'] },
    notBefore: new Date('2030-06-01T11:59:00Z'),
    notAfter: new Date('2030-06-01T13:00:00Z'),
    publicKey,
    isCa: false,
    keyUsage: ['digitalSignature'],
    extendedKeyUsage: ['clientAuth'],
    dnsNames: ['bot-ci.example.test'],
    ipAddresses: ['192.0.2.10'],
    uris: ['spiffe://example.test/bot/ci'],
  };
}

export function sshUserTemplate(publicKey: KeyObject): SshCertificateTemplate {
  return {
    type: 'user',
    publicKey,
    serial: 0x1122334455667788n,
    keyId: 'bot-ci',
    principals: ['deploy', 'ubuntu'],
    validAfter: new Date('2030-06-01T11:59:00Z'),
    validBefore: new Date('2030-06-01T13:00:00Z'),
    criticalOptions: { 'source-address': '192.0.2.0/24' },
    extensions: ['permit-pty', 'permit-port-forwarding'],
    nonce: Buffer.alloc(32, 0x5a),
  };
}

export function sshHostTemplate(publicKey: KeyObject): SshCertificateTemplate {
  return {
    type: 'host',
    publicKey,
    serial: 42n,
    keyId: 'host-web-1',
    principals: ['web-1.example.test', '192.0.2.20'],
    validAfter: new Date('2030-06-01T11:59:00Z'),
    validBefore: new Date('2030-06-01T13:00:00Z'),
    nonce: Buffer.alloc(32, 0xa5),
  };
}
