/**
 * `npm run demo`: the whole local flow on one machine, with no AWS account, by running the real CLIs
 * the way a user would: the auth service (`midctl auth start`), a role, two bots and their tokens
 * (`midctl`), the agent in one-shot mode (`midbot start --oneshot`) writing its artifacts, and a real
 * OpenSSH login with them into a real `sshd` whose host certificate also came from a bot.
 *
 * Everything lives in ./.mid-demo (recreated on each run) and every process is stopped at the end.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';

const DIST = import.meta.dirname;
const WORK = resolve('.mid-demo');
const CLUSTER = 'demo.local';
const children: ChildProcess[] = [];

const bold = (text: string) => (process.stdout.isTTY ? `\x1b[1m${text}\x1b[0m` : text);
const step = (text: string) => console.log(`\n${bold(`== ${text}`)}`);

function run(tool: 'midctl' | 'midbot', args: string[], options: { quiet?: boolean } = {}): string {
  console.log(`$ ${tool} ${args.join(' ')}`);
  const result = spawnSync(process.execPath, [join(DIST, `${tool}.mjs`), ...args], { encoding: 'utf8' });
  if (!options.quiet) process.stdout.write(result.stdout.replace(/^/gm, '  ').replace(/ {2}$/, ''));
  // midbot reports what it did in its log (standard error), like tbot.
  if (tool === 'midbot') process.stdout.write(result.stderr.replace(/^/gm, '  ').replace(/ {2}$/, ''));
  if (result.status !== 0) {
    process.stderr.write(result.stderr);
    throw new Error(`${tool} ${args[0]} failed with exit code ${result.status}`);
  }
  return result.stdout;
}

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => done(port));
    });
    server.on('error', fail);
  });
}

async function waitFor(
  check: () => boolean,
  what: string,
  child: ChildProcess,
  output: () => string,
): Promise<void> {
  for (let waited = 0; !check(); waited += 100) {
    if (child.exitCode !== null || waited > 20_000) throw new Error(`${what} did not start:\n${output()}`);
    await new Promise((done) => setTimeout(done, 100));
  }
}

async function startAuthServer(dataDir: string): Promise<string> {
  const args = ['--data-dir', dataDir, 'auth', 'start', '--listen', '127.0.0.1:0', '--cluster-name', CLUSTER];
  console.log(`$ midctl ${args.join(' ')} &`);
  const child = spawn(process.execPath, [join(DIST, 'midctl.mjs'), ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  children.push(child);
  let log = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    log += chunk;
  });
  await waitFor(
    () => log.includes('auth service started'),
    'the auth service',
    child,
    () => log,
  );
  console.log(`  ${log.split('\n').find((line) => line.includes('auth service started'))}`);
  return (JSON.parse(readFileSync(join(dataDir, 'auth-server.json'), 'utf8')) as { url: string }).url;
}

function botConfig(authServer: string, token: string, caPin: string, name: string, output: string): string {
  return [
    'version: v2',
    `auth_server: "${authServer}"`,
    'onboarding:',
    '  join_method: token',
    `  token: "${token}"`,
    '  ca_pins:',
    `    - "${caPin}"`,
    'storage:',
    '  type: directory',
    `  path: ${join(WORK, name, 'storage')}`,
    'outputs:',
    output,
    '',
  ].join('\n');
}

async function startSshd(hostDir: string, port: number): Promise<ChildProcess> {
  mkdirSync('/run/sshd', { recursive: true });
  const config = join(WORK, 'sshd_config');
  writeFileSync(
    config,
    [
      `ListenAddress 127.0.0.1:${port}`,
      `HostKey ${join(hostDir, 'ssh_host')}`,
      `HostCertificate ${join(hostDir, 'ssh_host-cert.pub')}`,
      `TrustedUserCAKeys ${join(hostDir, 'ssh_host-user-ca.pub')}`,
      'AuthorizedKeysFile none',
      'PasswordAuthentication no',
      'KbdInteractiveAuthentication no',
      'UsePAM no',
      'StrictModes no',
      'PermitRootLogin prohibit-password',
      `PidFile ${join(WORK, 'sshd.pid')}`,
      '',
    ].join('\n'),
  );
  console.log(
    `$ /usr/sbin/sshd -D -e -f ${config} &   (HostCertificate and TrustedUserCAKeys from the host bot)`,
  );
  const child = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', config], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.push(child);
  let log = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    log += chunk;
  });
  await waitFor(
    () => log.includes('Server listening'),
    'sshd',
    child,
    () => log,
  );
  return child;
}

async function main(): Promise<void> {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true, mode: 0o700 });
  const user = userInfo().username;

  step('1. Start the auth service (CAs are created on first start)');
  const dataDir = join(WORK, 'auth');
  const authServer = await startAuthServer(dataDir);
  const admin = ['--data-dir', dataDir];
  run('midctl', [...admin, 'status']);

  step('2. Create roles: SSH logins for the robot, host certificates for the host bot');
  const sshdPort = await freePort();
  const resources = join(WORK, 'resources.yaml');
  writeFileSync(
    resources,
    `kind: role
version: v7
metadata:
  name: demo-access
spec:
  allow:
    logins: ['${user}']
    node_labels:
      '*': '*'
---
kind: role
version: v7
metadata:
  name: demo-host
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
  labels:
    env: demo
spec:
  addr: 127.0.0.1:${sshdPort}
  hostname: node1
`,
  );
  run('midctl', [...admin, 'create', '-f', resources]);
  run('midctl', [...admin, 'get', 'roles', '--format', 'text']);

  step('3. Create two bots, each with a single-use join token');
  const added = (name: string, roles: string) => {
    const json = run('midctl', [...admin, 'bots', 'add', name, `--roles=${roles}`, '--format=json']);
    return JSON.parse(json) as { token: string; ca_pin: string };
  };
  const robot = added('robot', 'demo-access');
  const host = added('host', 'demo-host');

  step('4. Run the agents once: `midbot start --oneshot -c <config>`');
  const hostDir = join(WORK, 'host', 'out');
  const outDir = join(WORK, 'robot', 'out');
  const hostConfig = join(WORK, 'host.yaml');
  writeFileSync(
    hostConfig,
    botConfig(
      authServer,
      host.token,
      host.ca_pin,
      'host',
      `  - type: ssh_host\n    principals: [node1.${CLUSTER}]\n    destination:\n      type: directory\n      path: ${hostDir}`,
    ),
  );
  const robotConfig = join(WORK, 'robot.yaml');
  writeFileSync(
    robotConfig,
    botConfig(
      authServer,
      robot.token,
      robot.ca_pin,
      'robot',
      `  - type: identity\n    destination:\n      type: directory\n      path: ${outDir}`,
    ),
  );
  run('midbot', ['start', '--oneshot', '-c', hostConfig]);
  run('midbot', ['start', '--oneshot', '-c', robotConfig]);

  step(`5. The robot's artifacts in ${outDir}`);
  for (const name of readdirSync(outDir).sort()) {
    const { mode, size } = statSync(join(outDir, name));
    console.log(`  ${(mode & 0o777).toString(8).padStart(4, '0')}  ${String(size).padStart(5)}  ${name}`);
  }

  step(`6. Log in with plain OpenSSH: ssh -F ${outDir}/ssh_config ${user}@node1.${CLUSTER}`);
  if (!existsSync('/usr/sbin/sshd')) {
    console.log('  (skipped: no /usr/sbin/sshd here; install openssh-server to see the login)');
  } else {
    await startSshd(hostDir, sshdPort);
    const ssh = spawnSync(
      'ssh',
      [
        '-F',
        join(outDir, 'ssh_config'),
        '-o',
        'BatchMode=yes',
        `${user}@node1.${CLUSTER}`,
        'echo "hello from $(hostname) as $(whoami), authenticated by a Machine ID certificate"',
      ],
      {
        encoding: 'utf8',
        timeout: 20_000,
      },
    );
    console.log(`$ ssh -F ${join(outDir, 'ssh_config')} ${user}@node1.${CLUSTER} 'echo hello ...'`);
    if (ssh.status !== 0) throw new Error(`ssh failed (${ssh.status}):\n${ssh.stderr}`);
    console.log(`  ${ssh.stdout.trim()}`);
  }

  step('7. What the auth service recorded');
  run('midctl', [...admin, 'bots', 'instances', 'ls']);
  run('midctl', [...admin, 'events', 'ls', '--limit', '8']);
  console.log(`\nDone. Everything is in ${WORK}; run \`npm run demo\` again to start afresh.`);
}

try {
  await main();
} catch (error) {
  console.error(`\nDemo failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
} finally {
  for (const child of children) child.kill('SIGTERM');
}
