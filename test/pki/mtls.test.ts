import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secureRandom } from '../../lib/core/random.js';
import { privateKeyToPem } from '../../lib/pki/key-encoding.js';
import { generateKeyPair, SIGNATURE_SUITES } from '../../lib/pki/signature-suite.js';
import {
  type CertificateIssuer,
  type CertificateTemplate,
  issueCertificate,
} from '../../lib/pki/x509-certificate.js';
import { runAsync, tempDir } from './tools.js';

// The artifacts used the way consumers use them: curl (OpenSSL) and kubectl (Go) present the client
// certificate and `key` file to a TLS server that trusts only our client CA.

const HOUR = 3_600_000;

function ca(suite: (typeof SIGNATURE_SUITES)[number], commonName: string): CertificateIssuer {
  const keys = generateKeyPair(suite, 'tls-ca');
  const now = Date.now();
  const certificatePem = issueCertificate(
    {
      serial: secureRandom.bytes(16),
      subject: { commonName },
      notBefore: new Date(now - HOUR),
      notAfter: new Date(now + 24 * HOUR),
      publicKey: keys.publicKey,
      isCa: true,
      keyUsage: ['keyCertSign', 'cRLSign'],
    },
    { selfSigned: keys.privateKey },
  );
  return { certificatePem, privateKey: keys.privateKey };
}

function leaf(
  suite: (typeof SIGNATURE_SUITES)[number],
  issuer: CertificateIssuer,
  overrides: Partial<CertificateTemplate>,
) {
  const keys = generateKeyPair(suite, 'subject');
  const now = Date.now();
  const certificatePem = issueCertificate(
    {
      serial: secureRandom.bytes(16),
      subject: { commonName: 'unnamed' },
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + HOUR),
      publicKey: keys.publicKey,
      isCa: false,
      keyUsage: ['digitalSignature'],
      ...overrides,
    },
    issuer,
  );
  return { certificatePem, keyPem: privateKeyToPem(keys.privateKey) };
}

describe.each(SIGNATURE_SUITES)('mutual TLS with %s certificates', (suite) => {
  const dir = tempDir();
  let server: Server;
  let url: string;
  const hostCa = ca(suite, 'host CA');
  const userCa = ca(suite, 'user CA');
  const client = leaf(suite, userCa, {
    subject: { commonName: 'bot-ci', organization: ['deployers'] },
    extendedKeyUsage: ['clientAuth'],
  });
  const serverCert = leaf(suite, hostCa, {
    subject: { commonName: 'localhost' },
    extendedKeyUsage: ['serverAuth'],
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
  });
  const files = {
    hostCa: dir.write('host-ca.pem', hostCa.certificatePem),
    cert: dir.write('tlscert', client.certificatePem),
    key: dir.write('key', client.keyPem),
    kubeconfig: dir.write('kubeconfig', 'apiVersion: v1\nkind: Config\n'),
  };

  beforeAll(async () => {
    server = createServer(
      {
        cert: serverCert.certificatePem,
        key: serverCert.keyPem,
        ca: userCa.certificatePem,
        requestCert: true,
        rejectUnauthorized: true,
      },
      (request, response) => {
        const peer = (request.socket as TLSSocket).getPeerCertificate();
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ cn: peer.subject.CN, o: peer.subject.O }));
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    dir.cleanup();
  });

  it('curl authenticates with tlscert + key and trusts the server through the host CA', async () => {
    const body = await runAsync('curl', [
      '--silent',
      '--show-error',
      '--fail',
      '--cacert',
      files.hostCa,
      '--cert',
      files.cert,
      '--key',
      files.key,
      `${url}/`,
    ]);
    expect(JSON.parse(body)).toEqual({ cn: 'bot-ci', o: 'deployers' });
  });

  it('kubectl authenticates with the same files', async () => {
    const body = await runAsync('kubectl', [
      '--kubeconfig',
      files.kubeconfig,
      '--server',
      url,
      '--certificate-authority',
      files.hostCa,
      '--client-certificate',
      files.cert,
      '--client-key',
      files.key,
      'get',
      '--raw',
      '/',
    ]);
    expect(JSON.parse(body)).toEqual({ cn: 'bot-ci', o: 'deployers' });
  });

  it('the server refuses curl without a client certificate', async () => {
    await expect(
      runAsync('curl', ['--silent', '--show-error', '--fail', '--cacert', files.hostCa, `${url}/`]),
    ).rejects.toThrow(/certificate required|handshake failure/);
  });
});
