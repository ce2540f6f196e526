import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BotApiClient, signingIdentity } from '../../lib/bot/auth-client/bot-api-client.js';
import { discoverClusterTrust } from '../../lib/bot/auth-client/cluster-trust.js';
import { systemClock } from '../../lib/core/clock.js';
import { privateKeyToPem, publicKeyToPem } from '../../lib/pki/key-encoding.js';
import { generateKeyPair } from '../../lib/pki/signature-suite.js';
import { type AuthServerProcess, runMidctl, startAuthServerProcess } from '../support/cli.js';
import { runSsh, type SshdHandle, sshCertificateLoginArgs, startSshd } from '../support/sshd.js';

const ROLES = `kind: role
version: v6
metadata:
  name: ops
spec:
  allow:
    logins: ['root']
    node_labels:
      '*': '*'
---
kind: role
version: v7
metadata:
  name: host-issuer
spec:
  allow:
    rules:
      - resources: [host_cert]
        verbs: [create]
---
kind: node
sub_kind: openssh
version: v2
metadata:
  name: node1
spec:
  addr: 127.0.0.1:22
  hostname: node1
`;

/**
 * The foundation end to end: `midctl auth start` as a process, resources and bots made with `midctl`,
 * a token join over HTTPS, an SSH user certificate, and a real `ssh` login into a real `sshd` whose host
 * certificate also came from the service and is verified through a `@cert-authority` known_hosts line.
 */
describe('auth service with midctl, end to end with OpenSSH', () => {
  let dir: string;
  let server: AuthServerProcess;
  let sshd: SshdHandle | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mid-e2e-auth-'));
    server = await startAuthServerProcess(join(dir, 'data'), ['--cluster-name', 'example.test']);
  });

  afterAll(async () => {
    await sshd?.stop();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function joinBot(name: string, roles: string) {
    const added = await runMidctl([
      '--data-dir',
      server.dataDir,
      'bots',
      'add',
      name,
      `--roles=${roles}`,
      '--format',
      'json',
    ]);
    expect(added.stderr).toBe('');
    expect(added.code).toBe(0);
    const { token, ca_pin, expires } = JSON.parse(added.stdout) as {
      token: string;
      ca_pin: string;
      expires: string;
    };
    expect(ca_pin).toBe(server.caPin);
    expect(Date.parse(expires)).toBeGreaterThan(Date.now());
    const trust = await discoverClusterTrust(server.url, [ca_pin], { publicTls: false });
    const client = new BotApiClient(server.url, trust.caPem, systemClock);
    const keys = generateKeyPair('balanced', 'subject');
    const identity = await client.join({
      join_method: 'token',
      token,
      public_key: publicKeyToPem(keys.publicKey),
    });
    return {
      client,
      identity: signingIdentity(identity.tls_cert, keys.privateKey),
      joined: identity,
    };
  }

  it('creates roles, bots and tokens, joins, and logs in over real OpenSSH', async () => {
    const rolesFile = join(dir, 'roles.yaml');
    writeFileSync(rolesFile, ROLES);
    const created = await runMidctl(['--data-dir', server.dataDir, 'create', '-f', rolesFile]);
    expect(created.code).toBe(0);
    expect(created.stdout).toContain('role "ops" has been created');

    const status = await runMidctl(['--data-dir', server.dataDir, 'status']);
    expect(status.stdout).toMatch(/Cluster\s+example\.test/);
    expect(status.stdout).toContain(server.caPin);

    // The host: a bot with the host_cert rule gets a host certificate for the sshd.
    const host = await joinBot('host-bot', 'host-issuer');
    const hostKeys = generateKeyPair('balanced', 'subject');
    const hostOutput = await host.client.issueOutput(host.identity, {
      output: 'ssh_host',
      public_key: publicKeyToPem(hostKeys.publicKey),
      principals: ['127.0.0.1', 'node1.example.test'],
    });
    const hostKeyPath = join(dir, 'ssh_host');
    writeFileSync(hostKeyPath, privateKeyToPem(hostKeys.privateKey), { mode: 0o600 });
    writeFileSync(`${hostKeyPath}-cert.pub`, `${hostOutput.ssh_cert}\n`);
    writeFileSync(`${hostKeyPath}-user-ca.pub`, `${hostOutput.ca.ssh_user_ca_keys.join('\n')}\n`);
    sshd = await startSshd({
      hostKeyPath,
      hostCertificatePath: `${hostKeyPath}-cert.pub`,
      trustedUserCaKeysPath: `${hostKeyPath}-user-ca.pub`,
    });

    // The client: a bot whose role allows login as root gets an SSH user certificate.
    const robot = await joinBot('robot', 'ops');
    const userKeys = generateKeyPair('balanced', 'subject');
    const output = await robot.client.issueOutput(robot.identity, {
      output: 'identity',
      public_key: publicKeyToPem(userKeys.publicKey),
    });
    expect(output.ssh?.logins).toEqual(['root']);
    const keyPath = join(dir, 'key');
    writeFileSync(keyPath, privateKeyToPem(userKeys.privateKey), { mode: 0o600 });
    writeFileSync(`${keyPath}-cert.pub`, `${output.ssh_cert}\n`);
    const knownHosts = join(dir, 'known_hosts');
    const [hostCaType, hostCaBlob] = (output.ca.ssh_host_ca_keys[0] as string).split(' ');
    writeFileSync(knownHosts, `@cert-authority [127.0.0.1]:${sshd.port} ${hostCaType} ${hostCaBlob}\n`);

    const login = await runSsh([
      ...sshCertificateLoginArgs({
        port: sshd.port,
        user: 'root',
        identityFile: keyPath,
        certificateFile: `${keyPath}-cert.pub`,
        knownHostsFile: knownHosts,
      }),
      'echo machine-id-ok',
    ]);
    expect(login.stderr).not.toContain('Permission denied');
    expect(login.stdout.trim()).toBe('machine-id-ok');
    expect(login.code).toBe(0);

    // A login the role does not allow is refused by sshd itself.
    const refused = await runSsh([
      ...sshCertificateLoginArgs({
        port: sshd.port,
        user: 'nobody',
        identityFile: keyPath,
        certificateFile: `${keyPath}-cert.pub`,
        knownHostsFile: knownHosts,
      }),
      'true',
    ]);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('Permission denied');

    // The audit trail shows the joins and the issuance, and midctl sees the instances.
    const events = await runMidctl(['--data-dir', server.dataDir, 'events', 'ls', '--format', 'json']);
    const recorded = JSON.parse(events.stdout) as Array<{
      type: string;
      outcome: string;
      remote_addr?: string;
    }>;
    const types = recorded.map((e) => `${e.type}:${e.outcome}`);
    expect(types).toEqual(
      expect.arrayContaining(['bot.join:success', 'cert.issue:success', 'bot.create:success']),
    );
    // The bots' calls carry the address they came from (the socket's peer), the operator's do not.
    const fromBots = recorded.filter((e) => e.type === 'bot.join' || e.type === 'cert.issue');
    expect(fromBots.map((e) => e.remote_addr)).toEqual(fromBots.map(() => '127.0.0.1'));
    const instances = await runMidctl(['--data-dir', server.dataDir, 'bots', 'instances', 'ls', 'robot']);
    expect(instances.stdout).toContain(robot.joined.instance_id);
    robot.client.close();
    host.client.close();
  });

  it('refuses a second join with the same token and says why', async () => {
    const added = await runMidctl([
      '--data-dir',
      server.dataDir,
      'bots',
      'add',
      'once',
      '--roles=ops',
      '--format',
      'json',
    ]);
    const { token } = JSON.parse(added.stdout) as { token: string };
    const trust = await discoverClusterTrust(server.url, [server.caPin], { publicTls: false });
    const client = new BotApiClient(server.url, trust.caPem, systemClock);
    const publicKey = publicKeyToPem(generateKeyPair('balanced', 'subject').publicKey);
    await client.join({ join_method: 'token', token, public_key: publicKey });
    await expect(client.join({ join_method: 'token', token, public_key: publicKey })).rejects.toMatchObject({
      code: 'token_already_used',
    });
    client.close();
  });

  it('answers a wrong admin credential and a bad flag with one clear line and a non-zero exit', async () => {
    const noData = await runMidctl(['status']);
    expect(noData.code).toBe(1);
    expect(noData.stderr).toMatch(/^ERROR: midctl needs the auth server's data directory/);
    const badRef = await runMidctl(['--data-dir', server.dataDir, 'get', 'widgets']);
    expect(badRef.code).toBe(1);
    expect(badRef.stderr).toContain('unknown resource kind "widgets"');
  });
});
