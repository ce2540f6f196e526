import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AuthServerProcess,
  addBotWithMidctl,
  runMidbot,
  runMidctl,
  startAuthServerProcess,
} from '../support/cli.js';
import { runCommand } from '../support/run-command.js';
import { ensureLocalUser, type SshdHandle, startSshd } from '../support/sshd.js';

const canRun = process.getuid?.() === 0 && existsSync('/usr/sbin/sshd');

const ROLES = `kind: role
version: v6
metadata:
  name: ops
spec:
  allow:
    logins: ['root']
    node_labels:
      env: dev
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
`;

/** Plain OpenSSH with the identity output's ssh_config in `out`, non-interactive, plus `-o` options. */
function sshWith(out: string, options: readonly string[], target: string, command: string) {
  return runCommand('/usr/bin/ssh', [
    '-F',
    join(out, 'ssh_config'),
    ...['BatchMode=yes', 'ConnectTimeout=5', ...options].flatMap((option) => ['-o', option]),
    target,
    command,
  ]);
}

/**
 * The server-access guide with real processes: `midbot start --oneshot -c config.yaml` for an ssh_host
 * output that configures a real sshd, and for an identity output whose ssh_config logs into it with
 * plain OpenSSH (`ssh -F ssh_config root@node1.<cluster>`).
 */
describe.skipIf(!canRun)('midbot with OpenSSH', () => {
  let dir: string;
  let server: AuthServerProcess;
  let sshd: SshdHandle | undefined;
  const scopedSshds: SshdHandle[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'midbot-e2e-ssh-'));
    server = await startAuthServerProcess(join(dir, 'data'), ['--cluster-name', 'example.test']);
    writeFileSync(join(dir, 'roles.yaml'), ROLES);
    const created = await runMidctl(['--data-dir', server.dataDir, 'create', '-f', join(dir, 'roles.yaml')]);
    expect(created.code).toBe(0);
  });

  afterAll(async () => {
    for (const scoped of scopedSshds) await scoped.stop();
    await sshd?.stop();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function writeConfig(name: string, token: string, caPin: string, outputs: string): string {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(
      file,
      `version: v2
auth_server: "${server.url.replace('https://', '')}"
onboarding:
  join_method: token
  token: "${token}"
  ca_pins:
    - "${caPin}"
storage:
  type: directory
  path: ${join(dir, `${name}-storage`)}
${outputs}`,
    );
    return file;
  }

  it('configures sshd from an ssh_host output and logs in with the identity output', async () => {
    // The host: its bot writes the host key, certificate and user CA for sshd.
    const hostBot = await addBotWithMidctl(server.dataDir, 'host-bot', ['host-issuer']);
    const hostDir = join(dir, 'host');
    const hostConfig = writeConfig(
      'host',
      hostBot.token,
      hostBot.caPin,
      `outputs:
  - type: ssh_host
    principals: [node1]
    destination:
      type: directory
      path: ${hostDir}
`,
    );
    // Host certificates only name registered nodes: register node1 first (its port is known later).
    // Named by its hostname alone, the certificate also gets node1.example.test, which ssh_config checks.
    const nodeFile = join(dir, 'node.yaml');
    const writeNode = (addr: string) =>
      writeFileSync(
        nodeFile,
        `kind: node
version: v2
sub_kind: openssh
metadata:
  name: node1
  labels:
    env: dev
spec:
  addr: ${addr}
  hostname: node1
`,
      );
    writeNode('127.0.0.1:22');
    expect((await runMidctl(['--data-dir', server.dataDir, 'create', '-f', nodeFile])).code).toBe(0);
    const hostRun = await runMidbot(['start', '--oneshot', '-c', hostConfig]);
    expect(hostRun.stderr).toContain('Generated host certificate for node1');
    expect(hostRun.code).toBe(0);
    expect(statSync(join(hostDir, 'ssh_host')).mode & 0o777).toBe(0o600);
    sshd = await startSshd({
      hostKeyPath: join(hostDir, 'ssh_host'),
      hostCertificatePath: join(hostDir, 'ssh_host-cert.pub'),
      trustedUserCaKeysPath: join(hostDir, 'ssh_host-user-ca.pub'),
    });

    writeNode(`127.0.0.1:${sshd.port}`);
    expect((await runMidctl(['--data-dir', server.dataDir, 'create', '--force', '-f', nodeFile])).code).toBe(
      0,
    );

    // The client: an identity output.
    const robot = await addBotWithMidctl(server.dataDir, 'robot', ['ops']);
    const out = join(dir, 'machine-id');
    const robotConfig = writeConfig(
      'robot',
      robot.token,
      robot.caPin,
      `outputs:
  - type: identity
    destination:
      type: directory
      path: ${out}
`,
    );
    const run = await runMidbot(['start', '--oneshot', '-c', robotConfig]);
    expect(run.stderr).toContain('Joined the cluster as bot "robot"');
    expect(run.stderr).toContain('Wrote 1 of 1 outputs');
    expect(run.stderr).not.toContain(robot.token);
    expect(run.stdout + run.stderr).not.toMatch(/PRIVATE KEY/);
    expect(run.code).toBe(0);
    expect(readFileSync(join(out, 'ssh_config'), 'utf8')).toContain(
      `Host node1.example.test\n    HostName 127.0.0.1\n    Port ${sshd.port}`,
    );

    const ssh = (target: string, command: string) => sshWith(out, [], target, command);
    const login = await ssh('root@node1.example.test', 'echo ok');
    expect(login.stderr).not.toMatch(/Permission denied|Host key verification failed/);
    expect(login.stdout.trim()).toBe('ok');
    expect(login.code).toBe(0);

    // A login the role does not allow is refused by sshd itself.
    const other = await ensureLocalUser('midbotother');
    const refused = await ssh(`${other.name}@node1.example.test`, 'echo should-not-run');
    expect(refused.code).not.toBe(0);
    expect(refused.stdout).not.toContain('should-not-run');
    expect(refused.stderr).toContain('Permission denied');

    const verify = await runCommand('openssl', [
      'verify',
      '-CAfile',
      join(out, 'tlscacerts'),
      join(out, 'tlscert'),
    ]);
    expect(verify.stdout).toContain(': OK');
    expect(verify.code).toBe(0);

    // The heartbeat of the run is on the bot instance.
    const list = await runMidctl([
      '--data-dir',
      server.dataDir,
      'bots',
      'instances',
      'ls',
      'robot',
      '--format',
      'json',
    ]);
    const instances = JSON.parse(list.stdout) as
      | Array<{ metadata: { name: string } }>
      | { metadata: { name: string } };
    const id = (Array.isArray(instances) ? instances[0] : instances)?.metadata.name;
    const show = await runMidctl(['--data-dir', server.dataDir, 'bots', 'instances', 'show', `robot/${id}`]);
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(/latest_heartbeats:\s*\n\s*- recorded_at: \S+\n\s*hostname: \S+/);
    expect(show.stdout).toContain('one_shot: true');
    expect(show.stdout).toContain('outputs_written: 1');
  });
  it('enforces node_labels at an sshd that requires node-scoped principals, whatever logins the bot holds', async () => {
    // After the test above: its host output (the host key and user CA), its node1 and robot's config.
    const hostDir = join(dir, 'host');
    const out = join(dir, 'machine-id');
    const startScopedSshd = async (nodeName: string) => {
      const started = await startSshd({
        hostKeyPath: join(hostDir, 'ssh_host'),
        hostCertificatePath: join(hostDir, 'ssh_host-cert.pub'),
        trustedUserCaKeysPath: join(hostDir, 'ssh_host-user-ca.pub'),
        // What the README tells a node's admin to add: only principals scoped to this node log in.
        extraConfig: [
          `AuthorizedPrincipalsCommand /usr/bin/echo %u@${nodeName}`,
          'AuthorizedPrincipalsCommandUser nobody',
        ],
      });
      scopedSshds.push(started);
      return started;
    };
    const dev = await startScopedSshd('node1');
    const prod = await startScopedSshd('node2');
    const nodes = join(dir, 'scoped-nodes.yaml');
    writeFileSync(
      nodes,
      [
        ['node1', 'dev', dev.port],
        ['node2', 'prod', prod.port],
      ]
        .map(
          ([name, env, port]) => `kind: node
version: v2
sub_kind: openssh
metadata:
  name: ${name}
  labels:
    env: ${env}
spec:
  addr: 127.0.0.1:${port}
  hostname: ${name}
  scoped_principals: true
`,
        )
        .join('---\n'),
    );
    expect((await runMidctl(['--data-dir', server.dataDir, 'create', '--force', '-f', nodes])).code).toBe(0);

    const run = await runMidbot(['start', '--oneshot', '-c', join(dir, 'robot.yaml')]);
    expect(run.code).toBe(0);
    const certificate = await runCommand('/usr/bin/ssh-keygen', ['-L', '-f', join(out, 'key-cert.pub')]);
    expect(certificate.stdout).toMatch(/Principals:\s*\n\s*root\n\s*root@node1\n\s*Critical/);

    // Both sshds serve node1's host certificate: connect by address, check the certificate as node1's.
    const ssh = (port: number) =>
      sshWith(
        out,
        ['HostName=127.0.0.1', `Port=${port}`, 'HostKeyAlias=node1.example.test'],
        'root@node1.example.test',
        'echo ok',
      );
    // The dev node: the robot's ops role allows env=dev, so its certificate carries root@node1.
    const allowed = await ssh(dev.port);
    expect(allowed.stderr).not.toMatch(/Permission denied|Host key verification failed/);
    expect(allowed.stdout.trim()).toBe('ok');
    // The prod node: the certificate names root, but not root@node2, so this sshd refuses it.
    const refused = await ssh(prod.port);
    expect(refused.stdout).not.toContain('ok');
    expect(refused.stderr).toContain('Permission denied');
    expect(refused.code).not.toBe(0);
  });

  it('exports the CAs a server trusts (midctl auth export): sshd, known_hosts and openssl accept them', async () => {
    // After the tests above: node1's host key and certificate, and robot's identity output.
    const hostDir = join(dir, 'host');
    const out = join(dir, 'machine-id');
    const exported = async (type: string) => {
      const result = await runMidctl(['--data-dir', server.dataDir, 'auth', 'export', '--type', type]);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      const file = join(dir, `exported-${type}`);
      writeFileSync(file, result.stdout);
      return { file, text: result.stdout };
    };
    const user = await exported('user');
    expect(user.text).toMatch(/^(ssh-ed25519|ecdsa-sha2-nistp256|ssh-rsa) \S+( [^\n]*)?\n$/);
    const host = await exported('host');
    expect(host.text).toMatch(/^@cert-authority \*\.example\.test \S+ \S+ type=host\n$/);

    // An sshd set up from the export alone (not from a host bot's user CA file) lets robot in, and
    // the client checks the host certificate against the exported host line alone.
    const fromExport = await startSshd({
      hostKeyPath: join(hostDir, 'ssh_host'),
      hostCertificatePath: join(hostDir, 'ssh_host-cert.pub'),
      trustedUserCaKeysPath: user.file,
    });
    scopedSshds.push(fromExport);
    const login = await sshWith(
      out,
      [
        'HostName=127.0.0.1',
        `Port=${fromExport.port}`,
        'HostKeyAlias=node1.example.test',
        `UserKnownHostsFile=${host.file}`,
        'StrictHostKeyChecking=yes',
      ],
      'root@node1.example.test',
      'echo ok',
    );
    expect(login.stderr).not.toMatch(/Permission denied|Host key verification failed/);
    expect(login.stdout.trim()).toBe('ok');

    // The TLS user CA signed robot's client certificate; the TLS host CA the auth service's own.
    const verify = await runCommand('openssl', [
      'verify',
      '-CAfile',
      (await exported('tls-user')).file,
      join(out, 'tlscert'),
    ]);
    expect(verify.stdout).toContain(': OK');
    const ping = await runCommand('curl', [
      '--silent',
      '--show-error',
      '--cacert',
      (await exported('tls-host')).file,
      `${server.url}/v1/ping`,
    ]);
    expect(ping.stderr).toBe('');
    expect(ping.stdout).toContain('example.test');
    const refused = await runMidctl(['--data-dir', server.dataDir, 'auth', 'export', '--type', 'db']);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('--type: got "db", expected one of user, host, tls-user, tls-host');
    // Without --type, both SSH CAs as tctl prints them: the host line, then the user key for authorized_keys.
    const both = await runMidctl(['--data-dir', server.dataDir, 'auth', 'export']);
    expect(both.code).toBe(0);
    expect(both.stdout).toBe(`${host.text}cert-authority ${user.text}`);
  });
});
