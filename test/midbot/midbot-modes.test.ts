import { X509Certificate } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadBotConfig } from '../../lib/bot/config/load-bot-config.js';
import type { StartOptions } from '../../lib/midbot/commands/start.js';
import type { MidbotCommands } from '../../lib/midbot/program.js';
import { buildMidbotProgram } from '../../lib/midbot/program.js';
import { type Cluster, startCluster } from '../bot/agent/agent-fixture.js';
import { fakeMidbotIo } from '../support/fake-midbot-io.js';
import { createOpensslCa } from '../support/openssl-ca.js';
import { runCommand } from '../support/run-command.js';

let cluster: Cluster;
let work: string;
let kubeCa: string;

beforeAll(async () => {
  cluster = await startCluster();
  work = mkdtempSync(join(tmpdir(), 'midbot-modes-'));
  // The kubernetes mode needs a cluster to issue for; its CA is any certificate (nothing dials it).
  kubeCa = (await createOpensslCa(work, 'kube stand-in')).certPem;
  await cluster.server.service.admin.putResources(
    [
      {
        kind: 'role',
        version: 'v7',
        metadata: { name: 'kube' },
        spec: { allow: { kubernetes_labels: { '*': '*' }, kubernetes_groups: ['viewers'] } },
      },
      {
        kind: 'kube_cluster',
        version: 'v3',
        metadata: { name: 'prod' },
        spec: { api_server: 'https://127.0.0.1:6443', ca_cert: kubeCa },
      },
    ],
    false,
    'test',
  );
});

afterAll(async () => {
  await cluster?.dispose();
  rmSync(work, { recursive: true, force: true });
});

const fakeIo = () => fakeMidbotIo({ clock: cluster.clock, cwd: work });

async function midbot(argv: string[], overrides: Partial<MidbotCommands> = {}) {
  const io = fakeIo();
  await buildMidbotProgram(io, overrides).parseAsync(['node', 'midbot', ...argv]);
  return io;
}

/** The join flags for a fresh bot holding `roles`. */
async function joinFlags(bot: string, roles: string[]): Promise<string[]> {
  const token = await cluster.addBot(bot, roles);
  return [`--token=${token}`, `--ca-pin=${cluster.server.caPin}`, `--auth-server=${cluster.url}`];
}

describe('midbot start MODE (tbot 16 command lines)', () => {
  it('writes an identity output to --destination, a file:// URI, keeping the bot in --storage', async () => {
    const io = await midbot([
      'start',
      'identity',
      '--destination',
      `file://${join(work, 'id-out')}`,
      '--storage',
      `file://${join(work, 'id-storage')}`,
      '--oneshot',
      ...(await joinFlags('mode-identity', ['ops'])),
    ]);
    for (const file of ['identity', 'key', 'key-cert.pub', 'ssh_config', 'tlscert']) {
      expect(existsSync(join(work, 'id-out', file)), file).toBe(true);
    }
    expect(existsSync(join(work, 'id-storage', 'bot-identity.json'))).toBe(true);
    expect(io.logs.join('\n')).toContain('Wrote 1 of 1 outputs');
  });

  it('writes an app certificate with tbot specific names, and a kubeconfig, as the aliases app and k8s', async () => {
    const flags = await joinFlags('mode-app-kube', ['apps', 'kube']);
    await midbot([
      'start',
      'app',
      '--destination=app-out',
      '--app=grafana',
      '--specific-tls-extensions',
      '--storage=app-kube-storage',
      '--oneshot',
      ...flags,
    ]);
    const certificate = new X509Certificate(readFileSync(join(work, 'app-out', 'tls.crt')));
    expect(certificate.subject).toContain('CN=bot-mode-app-kube');
    expect(readFileSync(join(work, 'app-out', 'tlscert'), 'utf8')).toBe(certificate.toString());

    // The same bot, renewed from its storage: no token needed the second time.
    await midbot([
      'start',
      'k8s',
      '--destination=kube-out',
      '--kubernetes-cluster=prod',
      '--disable-exec-plugin',
      '--storage=app-kube-storage',
      '--oneshot',
      `--ca-pin=${cluster.server.caPin}`,
      `--auth-server=${cluster.url}`,
    ]);
    const kubeconfig = readFileSync(join(work, 'kube-out', 'kubeconfig.yaml'), 'utf8');
    expect(kubeconfig).toContain('server: https://127.0.0.1:6443');
    expect(kubeconfig).not.toContain('exec:');
  });

  it('adds the output to those of -c, with flags typed before the mode counting too', async () => {
    const token = await cluster.addBot('mode-with-file', ['ops', 'apps']);
    writeFileSync(
      join(work, 'with-file.yaml'),
      `version: v2
auth_server: "${cluster.url}"
onboarding: {join_method: token, token: "${token}", ca_pins: ["${cluster.server.caPin}"]}
storage: {type: memory}
outputs:
  - type: identity
    destination: {type: directory, path: ${join(work, 'file-out')}}
`,
    );
    const io = await midbot([
      'start',
      '--oneshot',
      'application',
      '-c',
      'with-file.yaml',
      '--destination',
      join(work, 'file-app-out'),
      '--app',
      'grafana',
    ]);
    expect(existsSync(join(work, 'file-out', 'identity'))).toBe(true);
    expect(existsSync(join(work, 'file-app-out', 'tlscert'))).toBe(true);
    expect(io.logs.join('\n')).toContain('Wrote 2 of 2 outputs');
  });

  it('takes the join token from MID_BOT_TOKEN, a flag still winning over it', async () => {
    const token = await cluster.addBot('mode-env-token', ['ops']);
    const flags = ['--oneshot', `--ca-pin=${cluster.server.caPin}`, `--auth-server=${cluster.url}`];
    process.env['MID_BOT_TOKEN'] = token;
    try {
      const io = await midbot(['start', 'identity', '--destination=env-out', ...flags]);
      expect(io.logs.join('\n')).toContain('Joined the cluster as bot "mode-env-token"');
      expect(io.logs.join('\n')).not.toContain(token);
      const fromFlag = await cluster.addBot('mode-flag-token', ['ops']);
      process.env['MID_BOT_TOKEN'] = await cluster.addBot('mode-env-unused', ['ops']);
      // Another bot: a folder of its own (midbot refuses one bot's output over another's).
      const second = await midbot([
        'start',
        'identity',
        '--destination=flag-out',
        ...flags,
        `--token=${fromFlag}`,
      ]);
      expect(second.logs.join('\n')).toContain('Joined the cluster as bot "mode-flag-token"');
    } finally {
      delete process.env['MID_BOT_TOKEN'];
    }
  });

  it('merges the flags typed before the mode: a typed value over the mode default, --ca-pin from both sides', async () => {
    const calls: StartOptions[] = [];
    const record = async (options: StartOptions) => {
      calls.push(options);
      return undefined;
    };
    const pin = (n: number) => `sha256:${String(n).repeat(64)}`;
    await midbot(
      [
        'start',
        '--log-format',
        'json',
        '--ca-pin',
        pin(1),
        '--oneshot',
        'identity',
        '--destination',
        'o',
        '--ca-pin',
        pin(2),
      ],
      { start: record },
    );
    expect(calls[0]).toMatchObject({ logFormat: 'json', caPins: [pin(1), pin(2)], oneshot: true });
    await midbot(
      ['start', '--log-format', 'json', 'identity', '--destination', 'o', '--log-format', 'text'],
      {
        start: record,
      },
    );
    expect(calls[1]?.logFormat).toBe('text');
  });

  it('takes an empty MID_BOT_TOKEN for none, and names MID_BOT_TOKEN in a refusal of its value', async () => {
    const flags = [
      '--auth-server',
      'a.example.com',
      `--ca-pin=${cluster.server.caPin}`,
      '--data-dir',
      '/var/lib/m',
    ];
    try {
      process.env['MID_BOT_TOKEN'] = '';
      const io = await midbot(['configure', 'identity', '--destination', '/opt/m', ...flags]);
      expect(io.stdout.join('')).not.toContain('token:');
      process.env['MID_BOT_TOKEN'] = 'two\nlines';
      await expect(midbot(['configure', 'identity', '--destination', '/opt/m', ...flags])).rejects.toThrow(
        /^MID_BOT_TOKEN: got \(value hidden\), expected the join token on one line/,
      );
      // A --token typed after the mode wins, and is named as typed.
      await expect(
        midbot(['configure', 'identity', '--destination', '/opt/m', '--token', 'a/b', ...flags]),
      ).rejects.toThrow(/^--token holds a \//);
    } finally {
      delete process.env['MID_BOT_TOKEN'];
    }
  });

  it("refuses a mode output in a folder of the file's, naming --destination", async () => {
    writeFileSync(
      join(work, 'clash.yaml'),
      `version: v2\noutputs:\n  - type: identity\n    destination: {type: directory, path: ${join(work, 'clash')}}\n`,
    );
    await expect(
      midbot([
        'start',
        'identity',
        '-c',
        'clash.yaml',
        '--destination',
        'clash',
        '--storage',
        'memory://',
        '--oneshot',
        ...(await joinFlags('mode-clash', ['ops'])),
      ]),
    ).rejects.toThrow(`--destination: got "${join(work, 'clash')}", the same folder as outputs[0]`);
  });

  it.each([
    [
      ['start', 'identiy'],
      'midbot start has no mode "identiy"; did you mean identity? (the modes are identity, app, kubernetes; flags alone, or -c FILE, need no mode)',
    ],
    [['configure', 'apps'], 'midbot configure has no mode "apps"; did you mean app?'],
    [
      ['start', 'identiy', '--destination=./x', '--oneshot'],
      'midbot start has no mode "identiy"; did you mean identity?',
    ],
    [['start', 'database', '--destination', './x'], 'midbot start has no mode "database" (the modes are'],
    [
      ['start', '--destination', './o', 'identity'],
      '--destination is a flag of the modes: write it after the mode, e.g. midbot start identity --destination /opt/machine-id',
    ],
    [['configure', '--app=grafana', 'app'], '--app is a flag of the modes: write it after the mode'],
    [
      ['start', 'identity', '--destination-dir', './x'],
      '--destination-dir: got "./x", --destination-dir is for start without a mode; a mode writes its output to --destination',
    ],
    [['start', 'identity', '--destination', 'o', '--fips'], '--fips: midbot has no FIPS mode'],
    [
      ['start', 'identity', '--destination', 'o', '--ssh-config', 'off'],
      '--ssh-config: got "off", midbot always writes ssh_config with an identity output',
    ],
    [['start', 'id', '--destination', 'o', '--allow-reissue'], '--allow-reissue: an identity output'],
    [
      ['start', 'app', '--destination', 'o', '--app', 'g', '--reader-group', 'www'],
      'lets that one reader user in and keeps everyone else out (for a group, run the reading service as one user of it)',
    ],
    [
      ['start', '--destination-dir', 'o', 'identity', '--destination', 'o'],
      '--destination-dir is for start without a mode; a mode writes its output to --destination (e.g. --destination o)',
    ],
    [
      ['start', 'identity', '--destination', 'o', '--cluster', 'leaf'],
      '--cluster: got "leaf", midbot serves one cluster, with no leaf clusters: drop --cluster',
    ],
    [
      ['start', 'app', '--destination', 'o', '--app', 'g', '--reader-user', 'www-data'],
      '--reader-user: got "www-data", midbot sets no ACLs as it writes: prepare the folder once with `midbot init',
    ],
    [
      ['start', 'kubernetes', '--destination', 'o', '--kubernetes-cluster', 'k', '--proxy-server', 'p:443'],
      '--proxy-server: got "p:443", midbot has no proxy',
    ],
  ])('refuses %j with what to write instead, before running', async (argv, message) => {
    const calls: unknown[] = [];
    const record = async (options: unknown) => {
      calls.push(options);
      return undefined;
    };
    await expect(midbot(argv, { start: record })).rejects.toThrow(message);
    expect(calls).toEqual([]);
  });

  it.each([
    [['start', 'app', '--destination', 'o'], '--app is required: give the app name, e.g. --app=grafana'],
    [
      ['start', 'kubernetes', '--destination', 'o'],
      '--kubernetes-cluster is required: give the Kubernetes cluster name',
    ],
    [
      ['start', 'identity'],
      '--destination is required: where the output goes, e.g. --destination=file:///opt/machine-id',
    ],
  ])('refuses %j without the flag the mode needs', async (argv, message) => {
    await expect(midbot(argv)).rejects.toThrow(message);
  });

  it('lists the modes in the help of start and shows each mode its own flags', async () => {
    const help = async (argv: string[]) => {
      const io = fakeIo();
      await expect(
        buildMidbotProgram(io).parseAsync(['node', 'midbot', ...argv, '--help']),
      ).rejects.toMatchObject({
        exitCode: 0,
      });
      return io.stdout.join('');
    };
    expect(await help(['start'])).toMatch(/identity\|ssh[\s\S]*app\|application[\s\S]*kubernetes\|k8s/);
    expect(await help(['start', 'app'])).toMatch(
      /--destination <uri>[\s\S]*--app <name>[\s\S]*--specific-tls-extensions/,
    );
    expect(await help(['configure', 'kubernetes'])).toMatch(
      /--kubernetes-cluster <name>[\s\S]*-o, --output <file>/,
    );
  });
});

describe('midbot configure', () => {
  it('prints the config the same flags would run with, which midbot start -c then runs', async () => {
    const flags = await joinFlags('configured', ['ops']);
    const io = await midbot([
      'configure',
      'identity',
      '--destination',
      'configured-out',
      '--storage',
      'configured-data',
      ...flags,
    ]);
    const yaml = io.stdout.join('');
    expect(yaml).toMatch(/^version: v2\nauth_server: /);
    expect(io.logs).toEqual([
      'NOTE: the config holds the join token: keep the file you save it to private (chmod 600), or write it with -o FILE, which does',
    ]);
    writeFileSync(join(work, 'configured.yaml'), yaml);
    const run = await midbot(['start', '-c', 'configured.yaml', '--oneshot']);
    expect(run.logs.join('\n')).toContain('Joined the cluster as bot "configured"');
    expect(existsSync(join(work, 'configured-out', 'tlscert'))).toBe(true);
  });

  it('writes -o FILE readable by its owner alone, replacing a symlink there rather than following it', async () => {
    const target = join(work, 'elsewhere.yaml');
    writeFileSync(target, 'untouched\n');
    symlinkSync(target, join(work, 'linked.yaml'));
    const io = await midbot([
      'configure',
      '--destination-dir',
      '/opt/machine-id',
      '--join-method',
      'iam',
      '--token',
      'ci-iam',
      '--auth-server',
      'auth.example.com',
      `--ca-pin=${cluster.server.caPin}`,
      '-o',
      'linked.yaml',
    ]);
    const written = join(work, 'linked.yaml');
    expect(lstatSync(written).isSymbolicLink()).toBe(false);
    expect(statSync(written).mode & 0o777).toBe(0o600);
    expect(readFileSync(target, 'utf8')).toBe('untouched\n');
    expect(io.stdout).toEqual([]);
    expect(io.logs).toEqual([`Wrote ${written} (mode 0600); run it with: midbot start -c ${written}`]);
    const { config } = loadBotConfig(readFileSync(written, 'utf8'), written);
    expect(config.onboarding).toMatchObject({ join_method: 'iam', token: 'ci-iam' });
  });

  it('writes -o typed before the mode, and prints on -o -', async () => {
    const flags = ['--token', 't', '--auth-server', 'a.example.com', `--ca-pin=${cluster.server.caPin}`];
    const io = await midbot([
      'configure',
      '-o',
      'before-mode.yaml',
      'identity',
      '--destination',
      '/opt/m',
      ...flags,
    ]);
    expect(io.stdout).toEqual([]);
    expect(readFileSync(join(work, 'before-mode.yaml'), 'utf8')).toMatch(/^version: v2\n/);
    const printed = await midbot(['configure', 'identity', '--destination', '/opt/m', '-o', '-', ...flags]);
    // The outputs come last, so that one more can be added at the end of the file.
    expect(printed.stdout.join('')).toMatch(
      /renewal_interval: 20m\noutputs:\n {2}- type: identity\n[\s\S]*\/opt\/m\n$/,
    );
    expect(existsSync(join(work, '-'))).toBe(false);
  });

  it('writes -o 0600 whatever the umask, and takes /dev/stdout for standard output', async () => {
    const flags = ['--token', 't', '--auth-server', 'a.example.com', `--ca-pin=${cluster.server.caPin}`];
    const umask = process.umask(0o277);
    try {
      const io = await midbot([
        'configure',
        'identity',
        '--destination',
        '/opt/m',
        '-o',
        'umask.yaml',
        ...flags,
      ]);
      expect(statSync(join(work, 'umask.yaml')).mode & 0o777).toBe(0o600);
      expect(io.logs[0]).toMatch(/\(mode 0600\)/);
    } finally {
      process.umask(umask);
    }
    const printed = await midbot([
      'configure',
      'identity',
      '--destination',
      '/opt/m',
      '-o',
      '/dev/stdout',
      ...flags,
    ]);
    expect(printed.stdout.join('')).toMatch(/^version: v2\n/);
  });

  it('refuses a token start would refuse, without reading any file', async () => {
    const flags = ['--auth-server', 'a.example.com', `--ca-pin=${cluster.server.caPin}`];
    await expect(
      midbot(['configure', 'identity', '--destination', '/opt/m', '--token', 'secrets/token', ...flags]),
    ).rejects.toThrow('--token holds a / but does not start with one');
    await expect(
      midbot(['configure', 'identity', '--destination', '/opt/m', '--token', 'two\nlines', ...flags]),
    ).rejects.toThrow(
      '--token: got (value hidden), expected the join token on one line, without control characters',
    );
  });

  it('rewrites a v1 file as v2, keeping a token file a path', async () => {
    writeFileSync(
      join(work, 'v1.yaml'),
      `auth_server: "${cluster.url}"
onboarding: {join_method: token, token: /etc/midbot/token, ca_pins: ["${cluster.server.caPin}"]}
storage: {directory: /var/lib/midbot}
destinations:
  - directory: /opt/machine-id
    app: grafana
`,
    );
    const io = await midbot(['configure', '-c', 'v1.yaml']);
    const yaml = io.stdout.join('');
    expect(yaml).toContain('token: /etc/midbot/token');
    expect(yaml).toContain('  - type: application\n');
    expect(io.logs).toEqual([
      'WARNING: v1.yaml: this file uses the v1 config shape (storage.directory, destinations); what midbot configure gives is its v2 form, for midbot start -c',
    ]);
    expect(io.logs.some((line) => line.startsWith('NOTE'))).toBe(false);
    expect(loadBotConfig(yaml, 'v2.yaml').warnings).toEqual([]);
  });

  it.each([
    [
      ['-o', 'no-such-folder/midbot.yaml'],
      /^-o no-such-folder\/midbot\.yaml: its folder \S+ does not exist; create it first$/,
    ],
    [['-o', '.'], /^-o \.: is a folder; give the path of a file to write$/],
    [['-o', 'to-a-device'], /^-o to-a-device: is not a regular file \(a device, a FIFO or a socket\)/],
    [['-o', ''], /^-o: got "", expected the file to write, e\.g\. -o midbot\.yaml$/],
    [['-o=eq.yaml'], /^-o: got "=eq\.yaml"; write -o eq\.yaml or --output=eq\.yaml$/],
    [
      ['-o', 'a-file/midbot.yaml'],
      /^-o a-file\/midbot\.yaml: \S+a-file is not a folder; give a path inside a folder$/,
    ],
    [['-o', 'a-fifo'], /^-o a-fifo: is not a regular file \(a device, a FIFO or a socket\)/],
  ])('refuses %j with what to do, writing nothing', async (flags, message) => {
    writeFileSync(join(work, 'a-file'), 'a file\n');
    if (!existsSync(join(work, 'to-a-device'))) symlinkSync('/dev/null', join(work, 'to-a-device'));
    if (!existsSync(join(work, 'a-fifo'))) {
      expect((await runCommand('mkfifo', [join(work, 'a-fifo')])).code).toBe(0);
    }
    await expect(
      midbot([
        'configure',
        '--destination-dir',
        '/opt/m',
        '--token',
        't',
        '--auth-server',
        'a.example.com',
        `--ca-pin=${cluster.server.caPin}`,
        ...flags,
      ]),
    ).rejects.toThrow(message);
  });

  it('checks the flags as midbot start does, naming the flag', async () => {
    const identity = ['configure', 'identity', '--destination', '/o', '--token', 't'];
    await expect(midbot([...identity, '--auth-server', 'a.example.com', '--ca-pin', 'nope'])).rejects.toThrow(
      /^--ca-pin: got \(value hidden\), expected a CA pin, sha256: followed by 64 hex digits/,
    );
    await expect(midbot([...identity, `--ca-pin=${cluster.server.caPin}`])).rejects.toThrow(
      /^--auth-server is required without a config file/,
    );
  });
});
