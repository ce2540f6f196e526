import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import {
  type OutputCertificatesResponse,
  type OutputKind,
  outputCertificatesResponseSchema,
  type SshNode,
} from '../../../lib/api/output-certificates.js';
import type { OutputKeys } from '../../../lib/bot/render/render-input.js';
import { createOpensslCa, type OpensslCa } from '../../support/openssl-ca.js';
import { runCommand } from '../../support/run-command.js';

/**
 * Certificates and keys for renderer tests, made with node:crypto and the real `openssl` and
 * `ssh-keygen` CLIs (independent of the project's own PKI code, so the tests check our files against
 * what the tools themselves produce and accept).
 */
export interface OutputFixture {
  readonly dir: string;
  readonly cluster: string;
  readonly nodes: SshNode[];
  /** The output's key pair (ECDSA P-256, PKCS#8 PEM) and its OpenSSH public line. */
  readonly keys: OutputKeys;
  readonly tlsUserCa: OpensslCa;
  readonly tlsHostCa: OpensslCa;
  /** `ssh-keygen` CA key files; `.pub` holds the public line. */
  readonly sshUserCaPath: string;
  readonly sshHostCaPath: string;
  readonly sshUserCaPub: string;
  readonly sshHostCaPub: string;
  /** Client certificate for `keys`, signed by the TLS user CA. */
  readonly tlsCertPem: string;
  /** User certificate for `keys` (principal root, valid 1h), signed by the SSH user CA. */
  readonly sshUserCert: string;
  /** A fresh key pair with an SSH host certificate for `principals`, signed by the SSH host CA. */
  makeHostKey(principals: readonly string[]): Promise<{ keys: OutputKeys; hostCert: string }>;
  response(kind: OutputKind, overrides?: Partial<OutputCertificatesResponse>): OutputCertificatesResponse;
}

export interface OutputFixtureOptions {
  /** @default 'example.test' */
  readonly cluster?: string;
  /** @default one node `node1` at 127.0.0.1:22 */
  readonly nodes?: SshNode[];
  /** SSH user certificate principals. @default ['root'] */
  readonly logins?: readonly string[];
}

export async function makeOutputFixture(
  dir: string,
  options: OutputFixtureOptions = {},
): Promise<OutputFixture> {
  const cluster = options.cluster ?? 'example.test';
  const nodes = options.nodes ?? [{ name: 'node1-id', hostname: 'node1', addr: '127.0.0.1:22' }];
  const logins = options.logins ?? ['root'];

  const keys = await makeKeyPair(dir, 'output');

  const sshUserCaPath = path.join(dir, 'ssh_user_ca');
  const sshHostCaPath = path.join(dir, 'ssh_host_ca');
  await tool('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'user-ca', '-f', sshUserCaPath]);
  await tool('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'host-ca', '-f', sshHostCaPath]);
  const sshUserCaPub = (await readFile(`${sshUserCaPath}.pub`, 'utf8')).trim();
  const sshHostCaPub = (await readFile(`${sshHostCaPath}.pub`, 'utf8')).trim();

  await tool('ssh-keygen', [
    '-q',
    '-s',
    sshUserCaPath,
    '-I',
    'bot-robot',
    '-n',
    logins.join(','),
    '-V',
    '-1m:+1h',
    path.join(dir, 'output.pub'),
  ]);
  const sshUserCert = (await readFile(path.join(dir, 'output-cert.pub'), 'utf8')).trim();

  const tlsUserCa = await createOpensslCa(dir, 'Test TLS User CA');
  const tlsHostCa = await createOpensslCa(dir, 'Test TLS Host CA');
  const tlsCertPem = await signTlsClientCert(dir, tlsUserCa, path.join(dir, 'output.key'), 'bot-robot');

  let hostKeys = 0;
  return {
    dir,
    cluster,
    nodes,
    keys,
    tlsUserCa,
    tlsHostCa,
    sshUserCaPath,
    sshHostCaPath,
    sshUserCaPub,
    sshHostCaPub,
    tlsCertPem,
    sshUserCert,
    async makeHostKey(principals) {
      hostKeys += 1;
      const stem = `host${hostKeys}`;
      const hostKeysPair = await makeKeyPair(dir, stem);
      await tool('ssh-keygen', [
        '-q',
        '-s',
        sshHostCaPath,
        '-h',
        '-I',
        stem,
        '-n',
        principals.join(','),
        '-V',
        '-1m:+1h',
        path.join(dir, `${stem}.pub`),
      ]);
      const hostCert = (await readFile(path.join(dir, `${stem}-cert.pub`), 'utf8')).trim();
      return { keys: hostKeysPair, hostCert };
    },
    response(kind, overrides = {}) {
      return outputCertificatesResponseSchema.parse({
        output: kind,
        cluster_name: cluster,
        bot_name: 'robot',
        roles: ['access'],
        serial: randomBytes(16).toString('hex'),
        issued_at: '2030-01-01T00:00:00Z',
        expires_at: '2030-01-01T01:00:00Z',
        tls_cert: kind === 'ssh_host' ? undefined : tlsCertPem,
        ssh_cert: kind === 'identity' ? sshUserCert : undefined,
        ca: {
          tls_user_ca_certs: [tlsUserCa.certPem],
          tls_host_ca_certs: [tlsHostCa.certPem],
          ssh_user_ca_keys: [sshUserCaPub],
          ssh_host_ca_keys: [sshHostCaPub],
        },
        ssh: kind === 'identity' ? { logins: [...logins], nodes } : undefined,
        ...overrides,
      });
    },
  };
}

/** An ECDSA P-256 key as PKCS#8 PEM (mode 0600, which OpenSSH insists on) and its OpenSSH line. */
async function makeKeyPair(dir: string, stem: string): Promise<OutputKeys> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const privateKeyPem = privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
  const keyPath = path.join(dir, `${stem}.key`);
  await writeFile(keyPath, privateKeyPem, { mode: 0o600 });
  const sshPublicKey = (await tool('ssh-keygen', ['-y', '-f', keyPath])).trim();
  await writeFile(path.join(dir, `${stem}.pub`), `${sshPublicKey}\n`);
  return { privateKeyPem, sshPublicKey };
}

/** A client certificate for an existing key (the identity's one key serves TLS and SSH). */
export async function signTlsClientCert(
  dir: string,
  ca: OpensslCa,
  keyPath: string,
  commonName: string,
  organizations: readonly string[] = [],
): Promise<string> {
  const stem = path.join(dir, `client-${randomBytes(4).toString('hex')}`);
  await writeFile(
    `${stem}.ext`,
    'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n',
  );
  const subject = [`/CN=${commonName}`, ...organizations.map((o) => `/O=${o}`)].join('');
  await tool('openssl', ['req', '-new', '-key', keyPath, '-subj', subject, '-out', `${stem}.csr`]);
  await tool('openssl', [
    'x509',
    '-req',
    '-in',
    `${stem}.csr`,
    '-CA',
    ca.certPath,
    '-CAkey',
    ca.keyPath,
    '-set_serial',
    `0x${randomBytes(16).toString('hex')}`,
    '-days',
    '1',
    '-extfile',
    `${stem}.ext`,
    '-out',
    `${stem}.crt`,
  ]);
  return readFile(`${stem}.crt`, 'utf8');
}

export async function tool(file: string, args: readonly string[], input?: string): Promise<string> {
  const result = await runCommand(file, args, input === undefined ? {} : { input });
  if (result.code !== 0) {
    throw new Error(`${file} ${args.join(' ')} failed (exit ${result.code}): ${result.stderr}`);
  }
  return result.stdout;
}
