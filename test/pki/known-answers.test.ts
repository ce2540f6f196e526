import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import forge from 'node-forge';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { caPin } from '../../lib/pki/ca-pin.js';
import { privateKeyToPem } from '../../lib/pki/key-encoding.js';
import { issueSshCertificate, parseSshCertificate } from '../../lib/pki/ssh-certificate.js';
import { toSshPublicKeyBlob } from '../../lib/pki/ssh-public-key.js';
import { issueCertificate, parseCertificate } from '../../lib/pki/x509-certificate.js';
import { caTemplate, leafTemplate, sshHostTemplate, sshUserTemplate } from './known-answer-inputs.js';
import { fixtureKey, run, tempDir } from './tools.js';

// Ed25519 signatures are deterministic (RFC 8032), so with fixed keys, dates, serials and nonces the
// whole output is fixed. Any change to these strings is a change to what we issue: review it as such.

const ED25519_CA_PEM = `-----BEGIN CERTIFICATE-----
MIIBljCCAUigAwIBAgIQAQIDBAUGBwgJCgsMDQ4PEDAFBgMrZXAwOTEVMBMGA1UE
CgwMZXhhbXBsZS50ZXN0MSAwHgYDVQQDDBdLbm93biBBbnN3ZXIgRWQyNTUxOSBD
QTAeFw0zMDAxMDEwMDAwMDBaFw0zNTAxMDEwMDAwMDBaMDkxFTATBgNVBAoMDGV4
YW1wbGUudGVzdDEgMB4GA1UEAwwXS25vd24gQW5zd2VyIEVkMjU1MTkgQ0EwKjAF
BgMrZXADIQBkWf0I3Hc2EIR8qwIXYt6J6hwbDVQa6o7l7mcSJ8v2h6NmMGQwEgYD
VR0TAQH/BAgwBgEB/wIBADAOBgNVHQ8BAf8EBAMCAQYwHQYDVR0OBBYEFL5qCQIk
Mz3Q5tZWo/D8Oq8KdnDAMB8GA1UdIwQYMBaAFL5qCQIkMz3Q5tZWo/D8Oq8KdnDA
MAUGAytlcANBAB1SuDiENMHKd7SBnaUryE2vWxjLu3ju6VI0ad4VtAzpuBWZaTDM
eI2AEa2OOdiX8AlVp9Ahy2i8fERF/7n7yAc=
-----END CERTIFICATE-----
`;

const ED25519_LEAF_PEM = `-----BEGIN CERTIFICATE-----
MIICIDCCAdKgAwIBAgIRAKGyw9Tl9gcYKTpLXG1+j5AwBQYDK2VwMDkxFTATBgNV
BAoMDGV4YW1wbGUudGVzdDEgMB4GA1UEAwwXS25vd24gQW5zd2VyIEVkMjU1MTkg
Q0EwHhcNMzAwNjAxMTE1OTAwWhcNMzAwNjAxMTMwMDAwWjA+MRcwFQYDVQQKDA5z
eXN0ZW06bWFzdGVyczESMBAGA1UECgwJZGVwbG95ZXJzMQ8wDQYDVQQDDAZib3Qt
Y2kwWTATBgcqhkjOPQIBBggqhkjOPQMBBwNCAARil8Ll7Hv2aFxwt74i8bDXPM6J
Iatb8blvgpWKgZtD9yitg3GlO4Vaum/31UTvF4lc1SEYjPJuSq00L0qF3+R2o4G6
MIG3MAwGA1UdEwEB/wQCMAAwDgYDVR0PAQH/BAQDAgeAMBMGA1UdJQQMMAoGCCsG
AQUFBwMCMEIGA1UdEQQ7MDmCE2JvdC1jaS5leGFtcGxlLnRlc3SHBMAAAgqGHHNw
aWZmZTovL2V4YW1wbGUudGVzdC9ib3QvY2kwHQYDVR0OBBYEFEu1OJoamUOAbjvN
+utvZ0S7ifI3MB8GA1UdIwQYMBaAFL5qCQIkMz3Q5tZWo/D8Oq8KdnDAMAUGAytl
cANBADTWDoRDvb1ajqfClmZ8siZx+QW1aDODVkdTkYhlAK/akwg5FHqAvBPNnu8D
grSMVOqogs3tptMHjg+a+SRejgM=
-----END CERTIFICATE-----
`;

const ED25519_SSH_USER_CERT =
  'ecdsa-sha2-nistp256-cert-v01@openssh.com AAAAKGVjZHNhLXNoYTItbmlzdHAyNTYtY2VydC12MDFAb3BlbnNzaC5jb20AAAAgWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWloAAAAIbmlzdHAyNTYAAABBBGKXwuXse/ZoXHC3viLxsNc8zokhq1vxuW+ClYqBm0P3KK2DcaU7hVq6b/fVRO8XiVzVIRiM8m5KrTQvSoXf5HYRIjNEVWZ3iAAAAAEAAAAGYm90LWNpAAAAFAAAAAZkZXBsb3kAAAAGdWJ1bnR1AAAAAHGjk4QAAAAAcaOh0AAAACYAAAAOc291cmNlLWFkZHJlc3MAAAAQAAAADDE5Mi4wLjIuMC8yNAAAADAAAAAWcGVybWl0LXBvcnQtZm9yd2FyZGluZwAAAAAAAAAKcGVybWl0LXB0eQAAAAAAAAAAAAAAMwAAAAtzc2gtZWQyNTUxOQAAACBkWf0I3Hc2EIR8qwIXYt6J6hwbDVQa6o7l7mcSJ8v2hwAAAFMAAAALc3NoLWVkMjU1MTkAAABAaCBqkByTCPWHgE7OmsOGctuG1e+cMorVHp1NJabrnMzHd9X+u4GgJJRn1cufEQ4Nq0tzFzHAf62pEmSjzNwtAg== bot-ci';

const ED25519_SSH_HOST_CERT =
  'ecdsa-sha2-nistp256-cert-v01@openssh.com AAAAKGVjZHNhLXNoYTItbmlzdHAyNTYtY2VydC12MDFAb3BlbnNzaC5jb20AAAAgpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaUAAAAIbmlzdHAyNTYAAABBBGKXwuXse/ZoXHC3viLxsNc8zokhq1vxuW+ClYqBm0P3KK2DcaU7hVq6b/fVRO8XiVzVIRiM8m5KrTQvSoXf5HYAAAAAAAAAKgAAAAIAAAAKaG9zdC13ZWItMQAAACQAAAASd2ViLTEuZXhhbXBsZS50ZXN0AAAACjE5Mi4wLjIuMjAAAAAAcaOThAAAAABxo6HQAAAAAAAAAAAAAAAAAAAAMwAAAAtzc2gtZWQyNTUxOQAAACBkWf0I3Hc2EIR8qwIXYt6J6hwbDVQa6o7l7mcSJ8v2hwAAAFMAAAALc3NoLWVkMjU1MTkAAABAbYze8lJ6MX/oVvemdo0tFiFI5yA0alTKnoFQrMXQSjUyKOrcR0TZhABP4vbHk+eLhZ0QhjRjH+KfBhYd6mxKBQ== host-web-1';

// ECDSA signatures are randomised, so for an ECDSA issuer the known answer is everything that is
// signed: the TBSCertificate, and the SSH certificate up to (and including) the signature key.
const P256_CA_TBS_SHA256 = '84c69bb09abbabf1538f4927a9949915d094a20b89ccad43508c74348f43e2a8';
const P256_LEAF_TBS_SHA256 = '096f342d7389b9bf2c38d2e8e6247588076c1d42cb05077b9aee726c491ee38c';
const P256_SSH_SIGNED_PART_SHA256 = 'd8163eec1e945ae5b62ccc314ee1873f6bbfe76d941f7d8dcfba5658d9622c35';

const ed25519Ca = fixtureKey('ed25519-ca');
const p256Ca = fixtureKey('p256-ca');
const p256Subject = createPublicKey(fixtureKey('p256-subject'));
const rsaSubject = createPublicKey(fixtureKey('rsa2048-subject'));

function tbsOf(pem: string): Buffer {
  const certificate = forge.asn1.fromDer(new X509Certificate(pem).raw.toString('binary'));
  const tbs = (certificate.value as forge.asn1.Asn1[])[0]!;
  return Buffer.from(forge.asn1.toDer(tbs).getBytes(), 'binary');
}

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

let dir: ReturnType<typeof tempDir>;
beforeEach(() => {
  dir = tempDir();
});
afterEach(() => dir.cleanup());

describe('X.509 known answers, Ed25519 issuer', () => {
  const caPem = issueCertificate(caTemplate(createPublicKey(ed25519Ca), 'Known Answer Ed25519 CA'), {
    selfSigned: ed25519Ca,
  });
  const leafPem = issueCertificate(leafTemplate(p256Subject), {
    certificatePem: caPem,
    privateKey: ed25519Ca,
  });

  it('issues a byte-for-byte stable CA and leaf', () => {
    expect(caPem).toBe(ED25519_CA_PEM);
    expect(leafPem).toBe(ED25519_LEAF_PEM);
  });

  it('has exactly the expected fields, as openssl reads them', () => {
    const text = run('openssl', ['x509', '-text', '-noout', '-in', dir.write('leaf.pem', ED25519_LEAF_PEM)]);
    const fields = text
      .replace(/\n\s+pub:\n(\s+[0-9a-f:]+\n)+/, '\n')
      .replace(/Signature Value:\n[\s\S]*$/, '');
    expect(fields).toBe(`Certificate:
    Data:
        Version: 3 (0x2)
        Serial Number:
            a1:b2:c3:d4:e5:f6:07:18:29:3a:4b:5c:6d:7e:8f:90
        Signature Algorithm: ED25519
        Issuer: O = example.test, CN = Known Answer Ed25519 CA
        Validity
            Not Before: Jun  1 11:59:00 2030 GMT
            Not After : Jun  1 13:00:00 2030 GMT
        Subject: O = system:masters, O = deployers, CN = bot-ci
        Subject Public Key Info:
            Public Key Algorithm: id-ecPublicKey
                Public-Key: (256 bit)
                ASN1 OID: prime256v1
                NIST CURVE: P-256
        X509v3 extensions:
            X509v3 Basic Constraints: critical
                CA:FALSE
            X509v3 Key Usage: critical
                Digital Signature
            X509v3 Extended Key Usage: 
                TLS Web Client Authentication
            X509v3 Subject Alternative Name: 
                DNS:bot-ci.example.test, IP Address:192.0.2.10, URI:spiffe://example.test/bot/ci
            X509v3 Subject Key Identifier: 
                4B:B5:38:9A:1A:99:43:80:6E:3B:CD:FA:EB:6F:67:44:BB:89:F2:37
            X509v3 Authority Key Identifier: 
                BE:6A:09:02:24:33:3D:D0:E6:D6:56:A3:F0:FC:3A:AF:0A:76:70:C0
    Signature Algorithm: ED25519
    `);
  });

  it('verifies with openssl and with node', () => {
    const caFile = dir.write('ca.pem', ED25519_CA_PEM);
    const leafFile = dir.write('leaf.pem', ED25519_LEAF_PEM);
    const at = String(Date.parse('2030-06-01T12:00:00Z') / 1000);
    expect(run('openssl', ['verify', '-attime', at, '-CAfile', caFile, leafFile])).toBe(`${leafFile}: OK\n`);
    expect(new X509Certificate(ED25519_LEAF_PEM).verify(createPublicKey(ed25519Ca))).toBe(true);
  });

  it('equals byte for byte what `openssl ca` issues from the same inputs', () => {
    // An independent encoder: same keys, names, dates, serials and extensions, DER from OpenSSL.
    const config = dir.write(
      'ca.cnf',
      [
        '[ca]',
        'default_ca = known',
        '[known]',
        `database = ${dir.write('index.txt', '')}`,
        `serial = ${dir.path('serial')}`,
        `new_certs_dir = ${dir.path('')}`,
        'policy = anything',
        'default_md = default',
        'unique_subject = no',
        'email_in_dn = no',
        '[anything]',
        'organizationName = supplied',
        'commonName = supplied',
        '[ca_extensions]',
        'basicConstraints = critical, CA:TRUE, pathlen:0',
        'keyUsage = critical, keyCertSign, cRLSign',
        'subjectKeyIdentifier = hash',
        'authorityKeyIdentifier = keyid:always',
        '[leaf_extensions]',
        'basicConstraints = critical, CA:FALSE',
        'keyUsage = critical, digitalSignature',
        'extendedKeyUsage = clientAuth',
        'subjectAltName = DNS:bot-ci.example.test, IP:192.0.2.10, URI:spiffe://example.test/bot/ci',
        'subjectKeyIdentifier = hash',
        'authorityKeyIdentifier = keyid:always',
        '',
      ].join('\n'),
    );
    const caKeyFile = dir.write('ca.key', privateKeyToPem(ed25519Ca));
    const subjectKeyFile = dir.write('subject.key', privateKeyToPem(fixtureKey('p256-subject')));
    const openssl = (args: string[]) => run('openssl', args);
    const common = ['-batch', '-config', config, '-keyfile', caKeyFile, '-preserveDN', '-notext', '-utf8'];

    dir.write('serial', '0102030405060708090A0B0C0D0E0F10\n');
    const caCsr = dir.path('ca.csr');
    openssl([
      'req',
      '-new',
      '-utf8',
      '-key',
      caKeyFile,
      '-subj',
      '/O=example.test/CN=Known Answer Ed25519 CA',
      '-out',
      caCsr,
    ]);
    const caOut = dir.path('ca.pem');
    openssl([
      'ca',
      ...common,
      '-selfsign',
      '-in',
      caCsr,
      '-out',
      caOut,
      '-extensions',
      'ca_extensions',
      '-startdate',
      '300101000000Z',
      '-enddate',
      '350101000000Z',
    ]);
    expect(readFileSync(caOut, 'utf8')).toBe(ED25519_CA_PEM);

    dir.write('serial', 'A1B2C3D4E5F60718293A4B5C6D7E8F90\n');
    const leafCsr = dir.path('leaf.csr');
    openssl([
      'req',
      '-new',
      '-utf8',
      '-key',
      subjectKeyFile,
      '-subj',
      '/O=system:masters/O=deployers/CN=bot-ci',
      '-out',
      leafCsr,
    ]);
    const leafOut = dir.path('leaf.pem');
    openssl([
      'ca',
      ...common,
      '-cert',
      caOut,
      '-in',
      leafCsr,
      '-out',
      leafOut,
      '-extensions',
      'leaf_extensions',
      '-startdate',
      '300601115900Z',
      '-enddate',
      '300601130000Z',
    ]);
    expect(readFileSync(leafOut, 'utf8')).toBe(ED25519_LEAF_PEM);
  });

  it('has a stable CA pin', () => {
    expect(caPin(ED25519_CA_PEM)).toBe(
      `sha256:${sha256(createPublicKey(ed25519Ca).export({ type: 'spki', format: 'der' }))}`,
    );
  });
});

describe('X.509 known answers, ECDSA P-256 issuer', () => {
  const caPem = issueCertificate(caTemplate(createPublicKey(p256Ca), 'Known Answer P-256 CA'), {
    selfSigned: p256Ca,
  });
  const leafPem = issueCertificate(leafTemplate(rsaSubject), { certificatePem: caPem, privateKey: p256Ca });

  it('signs exactly the expected TBSCertificate', () => {
    expect(sha256(tbsOf(caPem))).toBe(P256_CA_TBS_SHA256);
    expect(sha256(tbsOf(leafPem))).toBe(P256_LEAF_TBS_SHA256);
    expect(new X509Certificate(leafPem).verify(createPublicKey(p256Ca))).toBe(true);
  });

  it('has exactly the expected fields', () => {
    expect(parseCertificate(leafPem)).toMatchObject({
      serialHex: 'a1b2c3d4e5f60718293a4b5c6d7e8f90',
      subject: 'O=system:masters\nO=deployers\nCN=bot-ci',
      issuer: 'O=example.test\nCN=Known Answer P-256 CA',
      notBefore: new Date('2030-06-01T11:59:00Z'),
      notAfter: new Date('2030-06-01T13:00:00Z'),
      isCa: false,
      subjectAltName: 'DNS:bot-ci.example.test, IP Address:192.0.2.10, URI:spiffe://example.test/bot/ci',
    });
    const text = run('openssl', ['x509', '-text', '-noout', '-in', dir.write('leaf.pem', leafPem)]);
    expect(text).toContain('Signature Algorithm: ecdsa-with-SHA256');
    expect(text).toContain('Public-Key: (2048 bit)');
    const caText = run('openssl', ['x509', '-text', '-noout', '-in', dir.write('ca.pem', caPem)]);
    expect(caText).toMatch(/X509v3 Basic Constraints: critical\n\s+CA:TRUE, pathlen:0\n/);
    expect(caText).toMatch(/X509v3 Key Usage: critical\n\s+Certificate Sign, CRL Sign\n/);
  });
});

describe('OpenSSH known answers, Ed25519 CA', () => {
  it('issues byte-for-byte stable user and host certificates', () => {
    expect(issueSshCertificate(sshUserTemplate(p256Subject), ed25519Ca)).toBe(ED25519_SSH_USER_CERT);
    expect(issueSshCertificate(sshHostTemplate(p256Subject), ed25519Ca)).toBe(ED25519_SSH_HOST_CERT);
  });

  it('has exactly the expected fields, as ssh-keygen reads them', () => {
    const output = run('ssh-keygen', ['-L', '-f', dir.write('user-cert.pub', `${ED25519_SSH_USER_CERT}\n`)]);
    expect(
      output.replace(/^.*\n/, ''),
    ).toBe(`        Type: ecdsa-sha2-nistp256-cert-v01@openssh.com user certificate
        Public key: ECDSA-CERT SHA256:${fingerprintOf(p256Subject)}
        Signing CA: ED25519 SHA256:${fingerprintOf(createPublicKey(ed25519Ca))} (using ssh-ed25519)
        Key ID: "bot-ci"
        Serial: 1234605616436508552
        Valid: from 2030-06-01T11:59:00 to 2030-06-01T13:00:00
        Principals: 
                deploy
                ubuntu
        Critical Options: 
                source-address 192.0.2.0/24
        Extensions: 
                permit-port-forwarding
                permit-pty
`);
    const host = run('ssh-keygen', ['-L', '-f', dir.write('host-cert.pub', `${ED25519_SSH_HOST_CERT}\n`)]);
    expect(host).toContain('Type: ecdsa-sha2-nistp256-cert-v01@openssh.com host certificate');
    expect(host).toMatch(
      /Principals: \n\s+web-1\.example\.test\n\s+192\.0\.2\.20\n\s+Critical Options: \(none\)\n\s+Extensions: \(none\)\n/,
    );
  });
});

describe('OpenSSH known answers, ECDSA P-256 CA', () => {
  const line = issueSshCertificate(sshUserTemplate(rsaSubject), p256Ca);

  it('signs exactly the expected certificate body', () => {
    const blob = Buffer.from(line.split(' ')[1]!, 'base64');
    const caBlob = toSshPublicKeyBlob(createPublicKey(p256Ca));
    const signedLength = blob.indexOf(caBlob) + caBlob.length;
    expect(sha256(blob.subarray(0, signedLength))).toBe(P256_SSH_SIGNED_PART_SHA256);
    expect(parseSshCertificate(line).signatureValid).toBe(true);
  });

  it('has exactly the expected fields', () => {
    const parsed = parseSshCertificate(line);
    expect(parsed).toMatchObject({
      type: 'user',
      keyType: 'ssh-rsa-cert-v01@openssh.com',
      serial: 0x1122334455667788n,
      keyId: 'bot-ci',
      principals: ['deploy', 'ubuntu'],
      validAfter: new Date('2030-06-01T11:59:00Z'),
      validBefore: new Date('2030-06-01T13:00:00Z'),
      criticalOptions: { 'source-address': '192.0.2.0/24' },
      extensions: ['permit-port-forwarding', 'permit-pty'],
      signatureValid: true,
    });
    expect(parsed.publicKey.equals(rsaSubject)).toBe(true);
    expect(parsed.signatureKey.equals(createPublicKey(p256Ca))).toBe(true);
    const output = run('ssh-keygen', ['-L', '-f', dir.write('cert.pub', `${line}\n`)]);
    expect(output).toContain('Signing CA: ECDSA SHA256:');
    expect(output).toContain('(using ecdsa-sha2-nistp256)');
  });
});

function fingerprintOf(key: ReturnType<typeof createPublicKey>): string {
  return createHash('sha256').update(toSshPublicKeyBlob(key)).digest('base64').replace(/=+$/, '');
}
