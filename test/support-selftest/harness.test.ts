import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startKubeApiStandIn } from '../support/kube-api-server.js';
import { runKubectl } from '../support/kubectl.js';
import { startMtlsAppServer } from '../support/mtls-app-server.js';
import { createOpensslCa, type OpensslCa, type PemPair } from '../support/openssl-ca.js';
import { runCommand } from '../support/run-command.js';
import { createSshKeygenCa, generateSshKey, type SshKeygenCa } from '../support/ssh-keygen-ca.js';
import {
  certAuthorityKnownHostsLine,
  ensureLocalUser,
  runSsh,
  type SshdHandle,
  sshCertificateLoginArgs,
  startSshd,
} from '../support/sshd.js';

// The harnesses must work without the project's PKI code, so every certificate here comes from the
// openssl and ssh-keygen CLIs.
let dir: string;
let ca: OpensslCa;
let rogueCa: OpensslCa;
let server: PemPair;
const cleanups: Array<() => Promise<void>> = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'mid-harness-'));
  [ca, rogueCa] = await Promise.all([createOpensslCa(dir, 'Selftest CA'), createOpensslCa(dir, 'Rogue CA')]);
  server = await ca.issue({
    commonName: 'localhost',
    usage: 'server',
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
  });
});

afterAll(async () => {
  await Promise.all(cleanups.map((cleanup) => cleanup()));
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('startSshd', () => {
  let userCa: SshKeygenCa;
  let hostCa: SshKeygenCa;
  let sshd: SshdHandle;
  let knownHosts: string;
  let sshDir: string;

  beforeAll(async () => {
    sshDir = path.join(dir, 'ssh');
    await mkdir(sshDir, { mode: 0o700 });
    [userCa, hostCa] = await Promise.all([
      createSshKeygenCa(sshDir, 'user-ca'),
      createSshKeygenCa(sshDir, 'host-ca'),
    ]);
    const hostKey = await generateSshKey(sshDir, 'host-key');
    const hostCert = await hostCa.signHostKey(hostKey.publicKeyPath, {
      identity: 'selftest-host',
      principals: ['127.0.0.1', 'localhost'],
    });
    const trusted = path.join(sshDir, 'trusted-user-ca.pub');
    await writeFile(trusted, `${userCa.publicKey}\n`);
    sshd = await startSshd({
      hostKeyPath: hostKey.privateKeyPath,
      hostCertificatePath: hostCert.certificatePath,
      trustedUserCaKeysPath: trusted,
    });
    cleanups.push(sshd.stop);
    knownHosts = path.join(sshDir, 'known_hosts');
    await writeFile(knownHosts, certAuthorityKnownHostsLine(hostCa.publicKey, sshd.port));
  });

  async function userKey(name: string, signer: SshKeygenCa, principals: string[]) {
    const key = await generateSshKey(sshDir, name);
    const cert = await signer.signUserKey(key.publicKeyPath, { identity: `${name}@selftest`, principals });
    return { identityFile: key.privateKeyPath, certificateFile: cert.certificatePath };
  }

  it('logs in as root with a user certificate from the trusted CA, verifying the host certificate', async () => {
    const alice = await userKey('alice', userCa, ['root']);
    const result = await runSsh([
      ...sshCertificateLoginArgs({ port: sshd.port, user: 'root', knownHostsFile: knownHosts, ...alice }),
      'echo ok',
    ]);
    expect(result, result.stderr).toMatchObject({ code: 0, stdout: 'ok\n' });
    await vi.waitFor(() =>
      expect(sshd.logs()).toMatch(
        /Accepted publickey for root from 127\.0\.0\.1 .*ED25519-CERT .*ID alice@selftest/,
      ),
    );
  });

  it('refuses a user certificate from another CA', async () => {
    const rogueUserCa = await createSshKeygenCa(sshDir, 'rogue-user-ca');
    const mallory = await userKey('mallory', rogueUserCa, ['root']);
    const result = await runSsh([
      ...sshCertificateLoginArgs({ port: sshd.port, user: 'root', knownHostsFile: knownHosts, ...mallory }),
      'echo ok',
    ]);
    expect(result.code).toBe(255);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/Permission denied \(publickey\)/);
  });

  it('makes ssh refuse the host when known_hosts trusts another host CA', async () => {
    const otherHostCa = await createSshKeygenCa(sshDir, 'other-host-ca');
    const otherKnownHosts = path.join(sshDir, 'known_hosts.other');
    await writeFile(otherKnownHosts, certAuthorityKnownHostsLine(otherHostCa.publicKey, sshd.port));
    const carol = await userKey('carol', userCa, ['root']);
    const result = await runSsh([
      ...sshCertificateLoginArgs({
        port: sshd.port,
        user: 'root',
        knownHostsFile: otherKnownHosts,
        ...carol,
      }),
      'echo ok',
    ]);
    expect(result.code).toBe(255);
    expect(result.stderr).toMatch(/Host key verification failed/);
  });

  it('lets extraConfig override the defaults: PermitRootLogin no refuses a valid root certificate', async () => {
    const noRoot = await startSshd({
      hostKeyPath: path.join(sshDir, 'host-key'),
      hostCertificatePath: path.join(sshDir, 'host-key-cert.pub'),
      trustedUserCaKeysPath: path.join(sshDir, 'trusted-user-ca.pub'),
      extraConfig: ['PermitRootLogin no'],
    });
    cleanups.push(noRoot.stop);
    const hosts = path.join(sshDir, 'known_hosts.no-root');
    await writeFile(hosts, certAuthorityKnownHostsLine(hostCa.publicKey, noRoot.port));
    const erin = await userKey('erin', userCa, ['root']);
    const result = await runSsh([
      ...sshCertificateLoginArgs({ port: noRoot.port, user: 'root', knownHostsFile: hosts, ...erin }),
      'echo ok',
    ]);
    expect(result.code).toBe(255);
    expect(result.stderr).toMatch(/Permission denied/);
    await noRoot.stop();
  });

  it("fails with sshd's own message when sshd cannot start", async () => {
    const start = startSshd({
      hostKeyPath: path.join(sshDir, 'host-key'),
      trustedUserCaKeysPath: path.join(sshDir, 'trusted-user-ca.pub'),
      extraConfig: ['NoSuchSshdOption yes'],
    });
    await expect(start).rejects.toThrow(
      /sshd exited before listening[\s\S]*Bad configuration option: NoSuchSshdOption/,
    );
  });

  it('maps certificate principals to a created local user and refuses logins outside AllowUsers', async () => {
    const user = await ensureLocalUser('mid-selftest');
    expect(user).toMatchObject({ name: 'mid-selftest', shell: '/bin/sh' });
    const trusted = path.join(sshDir, 'trusted-user-ca.pub');
    const restricted = await startSshd({
      hostKeyPath: path.join(sshDir, 'host-key'),
      hostCertificatePath: path.join(sshDir, 'host-key-cert.pub'),
      trustedUserCaKeysPath: trusted,
      allowUsers: ['mid-selftest'],
      authorizedPrincipals: { 'mid-selftest': ['deployers'], root: ['deployers'] },
    });
    cleanups.push(restricted.stop);
    const hosts = path.join(sshDir, 'known_hosts.restricted');
    await writeFile(hosts, certAuthorityKnownHostsLine(hostCa.publicKey, restricted.port));
    const dave = await userKey('dave', userCa, ['deployers']);
    const login = (name: string) =>
      runSsh([
        ...sshCertificateLoginArgs({ port: restricted.port, user: name, knownHostsFile: hosts, ...dave }),
        'id -un',
      ]);

    const allowed = await login('mid-selftest');
    expect(allowed, allowed.stderr).toMatchObject({ code: 0, stdout: 'mid-selftest\n' });
    const refused = await login('root');
    expect(refused.code).toBe(255);
    expect(refused.stderr).toMatch(/Permission denied/);
    await vi.waitFor(() => expect(restricted.logs()).toMatch(/User root from 127\.0\.0\.1 not allowed/));
    await restricted.stop();
  });
});

describe('startMtlsAppServer', () => {
  let client: PemPair;
  let url: string;

  beforeAll(async () => {
    client = await ca.issue({ commonName: 'svc-billing', organizations: ['apps'], usage: 'client' });
    const app = await startMtlsAppServer({
      serverCertPem: server.certPem,
      serverKeyPem: server.keyPem,
      clientCaPem: ca.certPem,
      appName: 'billing',
      authorize: (certificate) => certificate.subject.CN === 'svc-billing',
    });
    cleanups.push(app.stop);
    url = `${app.url}hello`;
  });

  const curl = (args: string[]) =>
    runCommand('curl', [
      '--silent',
      '--show-error',
      '--max-time',
      '5',
      '--cacert',
      ca.certPath,
      ...args,
      url,
    ]);

  it('answers a client with a certificate from the client CA', async () => {
    const result = await curl(['--cert', client.certPath, '--key', client.keyPath]);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      ok: true,
      app: 'billing',
      subject: { CN: 'svc-billing', O: 'apps' },
      issuer: { CN: 'Selftest CA' },
    });
  });

  it('fails the handshake without a client certificate', async () => {
    const result = await curl([]);
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/alert|certificate/i);
  });

  it('fails the handshake with a client certificate from another CA', async () => {
    const rogue = await rogueCa.issue({ commonName: 'svc-billing', usage: 'client' });
    const result = await curl(['--cert', rogue.certPath, '--key', rogue.keyPath]);
    expect(result.code).not.toBe(0);
    expect(result.stdout).toBe('');
  });

  it('answers 403 when the authorize check refuses the certificate', async () => {
    const other = await ca.issue({ commonName: 'svc-payroll', usage: 'client' });
    const result = await curl([
      '--cert',
      other.certPath,
      '--key',
      other.keyPath,
      '--write-out',
      '%{http_code}',
    ]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/"ok":false.*\n403$/s);
  });
});

describe('startKubeApiStandIn', () => {
  let kubeUrl: string;
  let requests: readonly { path: string; user: string | null; groups: readonly string[] }[];

  beforeAll(async () => {
    const kube = await startKubeApiStandIn({
      serverCertPem: server.certPem,
      serverKeyPem: server.keyPem,
      clientCaPem: ca.certPem,
      allowedUsers: ['carol'],
      allowedGroups: ['ops'],
    });
    cleanups.push(kube.stop);
    kubeUrl = kube.url;
    requests = kube.requests;
  });

  async function kubectl(name: string, client: PemPair, args: string[]) {
    const kubeconfigPath = path.join(dir, `${name}.kubeconfig`);
    await writeFile(kubeconfigPath, kubeconfig(kubeUrl, ca.certPem, client));
    return runKubectl(args, { kubeconfigPath, cacheDir: path.join(dir, `${name}.kube-cache`) });
  }

  it('lets kubectl list pods with a client certificate whose group is allowed', async () => {
    const alice = await ca.issue({ commonName: 'alice', organizations: ['ops', 'dev'], usage: 'client' });
    const result = await kubectl('alice', alice, ['get', 'pods', '-n', 'team-a']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toMatch(/^NAME\s+READY\s+STATUS\s+RESTARTS\s+AGE\nmid-e2e-pod\s+1\/1\s+Running\s/);
    expect(requests).toContainEqual(
      expect.objectContaining({
        path: '/api/v1/namespaces/team-a/pods',
        user: 'alice',
        groups: ['ops', 'dev', 'system:authenticated'],
      }),
    );
  });

  it('lets kubectl read pods as JSON with a client certificate whose user is allowed', async () => {
    const carol = await ca.issue({ commonName: 'carol', usage: 'client' });
    const result = await kubectl('carol', carol, ['get', 'pods', '-n', 'team-b', '-o', 'json']);
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({
      kind: 'List',
      items: [{ kind: 'Pod', metadata: { name: 'mid-e2e-pod', namespace: 'team-b' } }],
    });
  });

  it('refuses a user and groups that are not allowed with Forbidden', async () => {
    const bob = await ca.issue({ commonName: 'bob', organizations: ['dev'], usage: 'client' });
    const result = await kubectl('bob', bob, ['get', 'pods', '-n', 'team-a']);
    expect(result.code).not.toBe(0);
    expect(result.stdout).not.toMatch(/mid-e2e-pod/);
    expect(result.stderr).toMatch(
      /Error from server \(Forbidden\): pods is forbidden: User "bob" cannot list resource "pods" .* namespace "team-a"/,
    );
  });

  it('does not authenticate a client certificate from another CA', async () => {
    const rogue = await rogueCa.issue({ commonName: 'alice', organizations: ['ops'], usage: 'client' });
    const result = await kubectl('rogue', rogue, ['get', 'pods', '-n', 'team-a']);
    expect(result.code).not.toBe(0);
    expect(result.stdout).not.toMatch(/mid-e2e-pod/);
    expect(result.stderr).toMatch(/You must be logged in to the server/);
  });
});

function kubeconfig(server: string, caPem: string, client: PemPair): string {
  const b64 = (pem: string) => Buffer.from(pem).toString('base64');
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: stand-in',
    '  cluster:',
    `    server: ${server}`,
    `    certificate-authority-data: ${b64(caPem)}`,
    'users:',
    '- name: machine',
    '  user:',
    `    client-certificate-data: ${b64(client.certPem)}`,
    `    client-key-data: ${b64(client.keyPem)}`,
    'contexts:',
    '- name: stand-in',
    '  context: {cluster: stand-in, user: machine}',
    'current-context: stand-in',
    '',
  ].join('\n');
}
