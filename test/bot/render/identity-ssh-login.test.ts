import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectoryDestination } from '../../../lib/bot/destinations/directory-destination.js';
import { renderOutput } from '../../../lib/bot/render/render-output.js';
import { runCommand } from '../../support/run-command.js';
import { makeOutputFixture, type OutputFixture } from '../support/output-fixture.js';

/**
 * The whole SSH path with the real tools: an OpenSSH server configured from an ssh_host output, and
 * `ssh -F ssh_config root@node1.<cluster>` from an identity output, as the server guide does it.
 */
const SSHD = '/usr/sbin/sshd';
const canRun = process.getuid?.() === 0 && existsSync(SSHD);

let work: string;
let fx: OutputFixture;
let identityDir: string;
const servers: ChildProcess[] = [];
let certifiedPort: number;
let uncertifiedPort: number;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, log: () => string): Promise<void> {
  for (let attempt = 0; attempt < 100; attempt += 1) {
    if (child.exitCode !== null) throw new Error(`sshd exited: ${log()}`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ port, host: '127.0.0.1' });
      socket.once('connect', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`sshd did not listen on ${port}: ${log()}`);
}

async function startSshd(name: string, port: number, lines: string[]): Promise<void> {
  const configPath = path.join(work, `${name}.sshd_config`);
  await writeFile(
    configPath,
    [
      `Port ${port}`,
      'ListenAddress 127.0.0.1',
      ...lines,
      'AuthorizedKeysFile none',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'PubkeyAuthentication yes',
      'PermitRootLogin prohibit-password',
      'UsePAM no',
      'StrictModes no',
      'PidFile none',
      'LogLevel VERBOSE',
      '',
    ].join('\n'),
  );
  const child = spawn(SSHD, ['-D', '-e', '-f', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  child.stderr?.on('data', (chunk) => {
    log += chunk;
  });
  servers.push(child);
  await waitForPort(port, child, () => log);
}

beforeAll(async () => {
  if (!canRun) return;
  // sshd refuses to start without its privilege separation folder; Debian creates it at boot.
  await mkdir('/run/sshd', { recursive: true, mode: 0o755 });
  work = await mkdtemp(path.join(tmpdir(), 'midbot-ssh-'));
  certifiedPort = await freePort();
  uncertifiedPort = await freePort();
  fx = await makeOutputFixture(work, {
    cluster: 'example.test',
    nodes: [
      { name: 'n1', hostname: 'node1', addr: `127.0.0.1:${certifiedPort}` },
      { name: 'n2', hostname: 'node2', addr: `127.0.0.1:${uncertifiedPort}` },
    ],
  });

  // node1: host key and certificate from an ssh_host output.
  const host = await fx.makeHostKey(['node1.example.test']);
  const hostDir = path.join(work, 'node1 host');
  await new DirectoryDestination(hostDir).write(
    renderOutput('ssh_host', fx.response('ssh_host', { ssh_cert: host.hostCert }), host.keys),
  );
  await startSshd('node1', certifiedPort, [
    `HostKey "${hostDir}/ssh_host"`,
    `HostCertificate "${hostDir}/ssh_host-cert.pub"`,
    `TrustedUserCAKeys "${hostDir}/ssh_host-user-ca.pub"`,
  ]);

  // node2: a host key without a certificate from the cluster's host CA.
  await runCommand('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', path.join(work, 'rogue_host')]);
  await startSshd('node2', uncertifiedPort, [
    `HostKey ${path.join(work, 'rogue_host')}`,
    `TrustedUserCAKeys "${hostDir}/ssh_host-user-ca.pub"`,
  ]);

  // A folder name with a space and a % exercises the quoting and escaping in ssh_config.
  identityDir = path.join(work, 'machine id 100%');
  await new DirectoryDestination(identityDir).write(
    renderOutput('identity', fx.response('identity'), fx.keys, { artifactDir: identityDir }),
  );
}, 60_000);

afterAll(async () => {
  for (const child of servers) child.kill('SIGTERM');
  if (work) await rm(work, { recursive: true, force: true });
});

const ssh = (target: string, command: string) =>
  runCommand('ssh', [
    '-F',
    path.join(identityDir, 'ssh_config'),
    '-o',
    'BatchMode=yes',
    '-o',
    'ConnectTimeout=5',
    target,
    command,
  ]);

describe.skipIf(!canRun)('identity output with OpenSSH', () => {
  it('logs in with ssh -F ssh_config root@node1.<cluster>', async () => {
    const result = await ssh('root@node1.example.test', 'echo midbot-ok');
    expect(result.stderr).not.toMatch(/Host key verification failed|Permission denied/);
    expect(result.stdout.trim()).toBe('midbot-ok');
    expect(result.code).toBe(0);
  });

  it('refuses a login the certificate does not carry', async () => {
    const result = await ssh('nobody@node1.example.test', 'true');
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/Permission denied/);
  });

  it('refuses a host without a certificate from the cluster host CA', async () => {
    const result = await ssh('root@node2.example.test', 'echo should-not-run');
    expect(result.code).not.toBe(0);
    expect(result.stdout).not.toContain('should-not-run');
    expect(result.stderr).toMatch(/no matching host key type|Host key verification failed/);
  });
});
