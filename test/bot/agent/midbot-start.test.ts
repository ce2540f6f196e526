import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { type AddressInfo, connect, createServer, type Socket } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OutputsFailedError } from '../../../lib/bot/agent/outputs-failed-error.js';
import type { Sleep } from '../../../lib/bot/agent/sleep.js';
import { STORAGE_LOCK_FILE } from '../../../lib/bot/agent/storage-lock.js';
import { STORED_IDENTITY_FILE } from '../../../lib/bot/agent/stored-identity.js';
import { start } from '../../../lib/midbot/commands/start.js';
import { buildMidbotProgram } from '../../../lib/midbot/program.js';
import { VERSION } from '../../../lib/version.js';
import { type FakeMidbotIo, fakeMidbotIo } from '../../support/fake-midbot-io.js';
import { type Cluster, startCluster } from './agent-fixture.js';

let cluster: Cluster;
let work: string;
const loopback443Refuses = await nothingListensOnLoopback443();

beforeAll(async () => {
  cluster = await startCluster();
  work = mkdtempSync(join(tmpdir(), 'midbot-cli-'));
});

afterAll(async () => {
  await cluster?.dispose();
  rmSync(work, { recursive: true, force: true });
});

type FakeIo = FakeMidbotIo;

function fakeIo(sleep: Sleep = async () => {}): FakeIo {
  return fakeMidbotIo({ clock: cluster.clock, cwd: work, sleep });
}

function configFile(name: string, token: string, outputs: string): string {
  const file = join(work, name);
  writeFileSync(
    file,
    `version: v2
auth_server: "${cluster.url}"
onboarding:
  join_method: token
  token: "${token}"
  ca_pins: ["${cluster.server.caPin}"]
storage:
  type: directory
  path: ${join(work, `${name}-storage`)}
${outputs}`,
  );
  return file;
}

describe('midbot start', () => {
  it('runs once from a config file, flags winning over the file', async () => {
    const token = await cluster.addBot('cli-once', ['ops']);
    const file = configFile('once.yaml', 'not-the-token', 'outputs: []\n');
    const io = fakeIo();
    const summary = await start(
      { config: 'once.yaml', token, oneshot: true, destinationDir: 'out-once', logFormat: 'json' },
      io,
    );
    expect(file).toContain(work);
    expect(summary?.written).toBe(1);
    expect(readFileSync(join(work, 'out-once', 'tlscert'), 'utf8')).toContain('BEGIN CERTIFICATE');
    const messages = io.logs.map((line) => (JSON.parse(line) as { message: string }).message);
    expect(messages).toContain('Joined the cluster as bot "cli-once"');
    expect(io.logs.join('\n')).not.toContain(token);
  });

  it('runs from a file holding only outputs, with the flags giving the rest', async () => {
    const token = await cluster.addBot('cli-filled', ['ops']);
    writeFileSync(
      join(work, 'outputs-only.yaml'),
      `version: v2\noutputs:\n  - type: identity\n    destination: {type: directory, path: ${join(work, 'out-filled')}}\n`,
    );
    const summary = await start(
      {
        config: 'outputs-only.yaml',
        dataDir: 'filled-data',
        authServer: cluster.url,
        joinMethod: 'token',
        caPins: [cluster.server.caPin],
        token,
        oneshot: true,
        logFormat: 'text',
      },
      fakeIo(),
    );
    expect(summary?.identity.obtained).toBe('joined');
    expect(summary?.written).toBe(1);
    expect(readFileSync(join(work, 'out-filled', 'tlscert'), 'utf8')).toContain('BEGIN CERTIFICATE');
    expect(existsSync(join(work, 'filled-data', STORED_IDENTITY_FILE))).toBe(true);
  });

  it('reads the join token from the file --token or onboarding.token names', async () => {
    const fromFlag = await cluster.addBot('cli-token-flag', ['ops']);
    writeFileSync(join(work, 'flag-token'), `${fromFlag}\n`);
    const io = fakeIo();
    const joined = await start(
      {
        authServer: cluster.url,
        caPins: [cluster.server.caPin],
        token: join(work, 'flag-token'),
        oneshot: true,
        logFormat: 'text',
      },
      io,
    );
    expect(joined?.identity).toMatchObject({ botName: 'cli-token-flag', obtained: 'joined' });
    expect(io.logs.join('\n')).not.toContain(fromFlag);

    const fromKey = await cluster.addBot('cli-token-key', ['ops']);
    writeFileSync(join(work, 'key-token'), `${fromKey}\n`);
    configFile('token-file.yaml', join(work, 'key-token'), 'outputs: []\noneshot: true\n');
    const viaFile = await start({ config: 'token-file.yaml', logFormat: 'text' }, fakeIo());
    expect(viaFile?.identity).toMatchObject({ botName: 'cli-token-key', obtained: 'joined' });

    // A token file gone once storage holds the identity: renewed without it, with a warning.
    const goneIo = fakeIo();
    const renewed = await start(
      { config: 'token-file.yaml', token: join(work, 'nope'), logFormat: 'text' },
      goneIo,
    );
    expect(renewed?.identity).toMatchObject({ botName: 'cli-token-key', obtained: 'renewed' });
    expect(goneIo.logs.join('\n')).toContain(`--token ${join(work, 'nope')}: no such file; `);
    expect(goneIo.logs.join('\n')).toContain('going on without a join token');
  });

  it('fails a oneshot run when an output failed, naming it', async () => {
    const token = await cluster.addBot('cli-denied', ['ops']);
    configFile(
      'denied.yaml',
      token,
      `outputs:
  - type: application
    app_name: payroll
    destination:
      type: directory
      path: ${join(work, 'out-denied')}
oneshot: true
`,
    );
    const error = await start({ config: 'denied.yaml', logFormat: 'text' }, fakeIo()).catch((e) => e);
    expect(error).toBeInstanceOf(OutputsFailedError);
    expect(error.message).toMatch(
      /^1 of 1 output failed \(their previous artifacts stay in place\): outputs\[0\] \(app "payroll", directory \S+out-denied\): the roles ops do not allow app "payroll"/,
    );
  });

  it('wires SIGHUP to a re-render and SIGTERM to a clean stop', async () => {
    const token = await cluster.addBot('cli-daemon', ['ops']);
    configFile(
      'daemon.yaml',
      token,
      `outputs:
  - type: identity
    destination:
      type: directory
      path: ${join(work, 'out-daemon')}
`,
    );
    const waits: Array<() => void> = [];
    const sleep: Sleep = (_delay, signal) =>
      new Promise((resolve) => {
        signal.addEventListener('abort', () => resolve(), { once: true });
        waits.shift()?.();
      });
    const nextSleep = () => new Promise<void>((resolve) => waits.push(resolve));
    const io = fakeIo(sleep);
    const first = nextSleep();
    const running = start({ config: 'daemon.yaml', logFormat: 'text' }, io);
    await first;
    const before = readFileSync(join(work, 'out-daemon', 'tlscert'), 'utf8');
    const second = nextSleep();
    io.handlers.get('SIGHUP')?.();
    await second;
    expect(readFileSync(join(work, 'out-daemon', 'tlscert'), 'utf8')).not.toBe(before);
    io.handlers.get('SIGTERM')?.();
    await expect(running).resolves.toBeUndefined();
    expect(io.handlers.size).toBe(0);
    expect(io.logs.filter((line) => line.includes('Generated identity'))).toHaveLength(2);
  });
});

describe('midbot start on a data directory', () => {
  /** A sleep that waits until aborted, and a promise for the next time the daemon goes to sleep. */
  function abortableSleep() {
    const waits: Array<() => void> = [];
    const sleep: Sleep = (_delay, signal) =>
      new Promise((resolve) => {
        signal.addEventListener('abort', () => resolve(), { once: true });
        waits.shift()?.();
      });
    return { sleep, nextSleep: () => new Promise<void>((resolve) => waits.push(resolve)) };
  }

  it('locks --data-dir for the whole run: a second start is refused, SIGTERM removes the lock, and a restart needs no token', async () => {
    const token = await cluster.addBot('cli-locked', ['ops']);
    const flags = {
      authServer: cluster.url,
      caPins: [cluster.server.caPin],
      dataDir: 'locked-data',
      logFormat: 'text' as const,
    };
    const lockFile = join(work, 'locked-data', STORAGE_LOCK_FILE);
    const { sleep, nextSleep } = abortableSleep();
    const io = fakeIo(sleep);
    const asleep = nextSleep();
    const daemon = start({ ...flags, token, destinationDir: 'locked-out' }, io);
    await asleep;
    expect(readFileSync(lockFile, 'utf8')).toBe(`${process.pid} ${hostname()}\n`);

    const refused = await start({ ...flags, oneshot: true }, fakeIo()).catch((error: Error) => error);
    expect(refused).toBeInstanceOf(Error);
    expect((refused as Error).message).toContain(
      `--data-dir ${join(work, 'locked-data')} is in use by midbot pid ${process.pid} (lock file ${lockFile}): two runs on one storage renew the same identity`,
    );
    // Refused before renewing: the daemon's identity is still the only generation there is.
    const [instance] = await cluster.instances('cli-locked');
    expect(instance?.status.generation).toBe(1);
    expect(instance?.status.locked).toBeUndefined();

    io.handlers.get('SIGTERM')?.();
    await expect(daemon).resolves.toBeUndefined();
    expect(existsSync(lockFile)).toBe(false);

    // A restart from storage with the flags and no --token renews the stored identity.
    const resumed = await start({ ...flags, oneshot: true, destinationDir: 'locked-out' }, fakeIo());
    expect(resumed?.identity).toMatchObject({ obtained: 'renewed', generation: 2 });
    expect(existsSync(lockFile)).toBe(false);
  });

  it.each(['SIGTERM', 'SIGINT', 'SIGHUP'] as const)(
    'removes the lock before a %s ends a oneshot run',
    async (sent) => {
      const token = await cluster.addBot(`cli-interrupted-${sent.toLowerCase()}`, ['ops']);
      const dataDir = `interrupted-data-${sent}`;
      const lockFile = join(work, dataDir, STORAGE_LOCK_FILE);
      const raised: Array<{ signal: string; lockLeft: boolean }> = [];
      const io: FakeIo = {
        ...fakeIo(),
        onSignal: (signal, handler) => {
          // The signal arrives while the run is under way.
          if (signal === sent) queueMicrotask(handler);
          return () => {};
        },
        raise: (signal) => raised.push({ signal, lockLeft: existsSync(lockFile) }),
      };
      await start(
        {
          authServer: cluster.url,
          token,
          caPins: [cluster.server.caPin],
          dataDir,
          oneshot: true,
          logFormat: 'text',
        },
        io,
      );
      expect(raised).toEqual([{ signal: sent, lockLeft: false }]);
    },
  );

  it('lets a daemon finish its run on the first SIGTERM and stops it at once on the second', async () => {
    // An auth service that takes connections and never answers: the run hangs on its timeouts.
    const sockets: Socket[] = [];
    const hung = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    const connected = once(hung, 'connection');
    const dataDir = 'hung-data';
    const lockFile = join(work, dataDir, STORAGE_LOCK_FILE);
    const raised: Array<{ signal: string; lockLeft: boolean }> = [];
    const io: FakeIo = {
      ...fakeIo(),
      raise: (signal) => raised.push({ signal, lockLeft: existsSync(lockFile) }),
    };
    const daemon = start(
      {
        authServer: `127.0.0.1:${(hung.address() as AddressInfo).port}`,
        token: 'hung-token',
        caPins: [cluster.server.caPin],
        dataDir,
        logFormat: 'text',
      },
      io,
    );
    try {
      await connected;
      io.handlers.get('SIGTERM')?.();
      expect(io.logs.at(-1)).toContain(
        'SIGTERM: stopping when the current run ends; SIGTERM again stops at once',
      );
      expect(raised).toEqual([]);
      expect(existsSync(lockFile)).toBe(true);

      io.handlers.get('SIGTERM')?.();
      expect(io.logs.at(-1)).toContain('SIGTERM again: stopping now, in the middle of the run');
      expect(raised).toEqual([{ signal: 'SIGTERM', lockLeft: false }]);
      expect(io.handlers.size).toBe(0);
    } finally {
      // (The real raise ends the process here; this one returns, so the run is let fail and end.)
      for (const socket of sockets) socket.destroy();
      hung.close();
    }
    await expect(daemon).resolves.toBeUndefined();
  });

  /** The flags of a oneshot run against the test cluster with a join token. */
  const oneshotFlags = (token: string) => ({
    authServer: cluster.url,
    token,
    caPins: [cluster.server.caPin],
    oneshot: true,
    logFormat: 'text' as const,
  });

  it('refuses --data-dir inside --destination-dir before it makes the storage folder there', async () => {
    const token = await cluster.addBot('cli-nested', ['ops']);
    const flags = oneshotFlags(token);
    const error = await start(
      { ...flags, destinationDir: 'shared', dataDir: 'shared/storage' },
      fakeIo(),
    ).catch((e: Error) => e);
    expect((error as Error).message).toBe(
      `--data-dir: got "${join(work, 'shared/storage')}", inside --destination-dir (${join(work, 'shared')}); the bot's own renewable identity must not sit where readers of that output can reach it, choose a folder outside it`,
    );
    expect(existsSync(join(work, 'shared'))).toBe(false);
  });

  it('refuses an unwritable --data-dir before joining, with advice for the data directory', async () => {
    const token = await cluster.addBot('cli-unwritable', ['ops']);
    writeFileSync(join(work, 'a-file'), 'not a folder\n');
    const flags = oneshotFlags(token);
    const error = await start({ ...flags, dataDir: 'a-file/data' }, fakeIo()).catch((e: Error) => e);
    expect((error as Error).message).toBe(
      `checking that storage can be written failed: cannot write ${join(work, 'a-file/data')}: ${join(work, 'a-file')} is a file, not a folder (ENOTDIR); move it away or choose another path. midbot checks this before it joins or renews, so the join token and any stored identity are unchanged.`,
    );
    const joined = await start({ ...flags, dataDir: 'writable-data' }, fakeIo());
    expect(joined?.identity.obtained).toBe('joined');
  });

  it('refuses an unwritable --destination-dir before joining without --data-dir, so the same token joins once it is fixed', async () => {
    const token = await cluster.addBot('cli-unwritable-out', ['ops']);
    writeFileSync(join(work, 'out-file'), 'not a folder\n');
    const flags = oneshotFlags(token);
    const io = fakeIo();
    const error = await start({ ...flags, destinationDir: 'out-file/out' }, io).catch((e: Error) => e);
    expect((error as Error).message).toBe(
      `checking that outputs[0] (identity) can be written failed: cannot write ${join(work, 'out-file/out')}: ${join(work, 'out-file')} is a file, not a folder (ENOTDIR); move it away or choose another path. midbot checks every output's folder before it joins with a token, so the token is not spent: once the folder is fixed, the same token joins.`,
    );
    expect(io.logs.join('\n')).not.toContain('Joined');
    const joined = await start({ ...flags, destinationDir: 'out-fixed' }, fakeIo());
    expect(joined).toMatchObject({ identity: { obtained: 'joined' }, written: 1 });
  });

  it.runIf(loopback443Refuses)(
    'says an --auth-server without a port went to 443, where a local auth service is not',
    async () => {
      const error = await start({ ...oneshotFlags('unused'), authServer: '127.0.0.1' }, fakeIo()).catch(
        (e: Error) => e,
      );
      expect((error as Error).message).toBe(
        'connecting to the auth service failed: cannot reach the auth service at https://127.0.0.1: ECONNREFUSED; the address names no port, so midbot connected to 443, the https default, and nothing listens there. `midctl auth start` listens on 3025 unless --listen says otherwise: write the port, e.g. 127.0.0.1:3025',
      );
    },
  );
});

/** Whether a connection to 127.0.0.1:443 is refused here, as on most machines that run the tests. */
async function nothingListensOnLoopback443(): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port: 443 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

describe('midbot command table', () => {
  it.each([
    [['start', '--help'], /--ca-pin <pin>[\s\S]*--oneshot[\s\S]*--log-format <format>/],
    [['init', '--help'], /--bot-user <user>[\s\S]*--reader-user <user>/],
    [['--help'], /start[\s\S]*init/],
  ])('prints help for %j', async (argv, pattern) => {
    const io = fakeIo();
    const program = buildMidbotProgram(io);
    await expect(program.parseAsync(['node', 'midbot', ...argv])).rejects.toMatchObject({ exitCode: 0 });
    expect(io.stdout.join('')).toMatch(pattern);
  });

  it('says in the help of --data-dir that memory is the storage of flags alone, not of a config file', async () => {
    const io = fakeIo();
    const program = buildMidbotProgram(io);
    await expect(program.parseAsync(['node', 'midbot', 'start', '--help'])).rejects.toMatchObject({
      exitCode: 0,
    });
    const help = io.stdout.join('').replace(/\s+/g, ' ');
    expect(help).toContain(
      'without it: the storage of -c (a config file must set one), or memory with flags alone',
    );
    expect(help).not.toContain('memory when absent');
  });

  it.each([[['version']], [['--version']], [['-v']]])('prints the version for %j', async (argv) => {
    const io = fakeIo();
    const program = buildMidbotProgram(io);
    await program.parseAsync(['node', 'midbot', ...argv]).catch((error: { exitCode?: number }) => {
      // --version ends the parse as --help does; `version` is a command that returns.
      expect(error.exitCode).toBe(0);
    });
    expect(io.stdout).toEqual([`${VERSION}\n`]);
  });

  it.each([
    [
      [
        'start',
        '--oneshot',
        '--data-dir',
        'd',
        '--destination-dir',
        'o',
        '--token',
        't',
        '--ca-pin',
        'p1',
        '--ca-pin',
        'p2',
        '--auth-server',
        'a:443',
      ],
      {
        logFormat: 'text',
        oneshot: true,
        dataDir: 'd',
        destinationDir: 'o',
        token: 't',
        caPins: ['p1', 'p2'],
        authServer: 'a:443',
      },
    ],
    [
      [
        'start',
        '-c',
        'f.yaml',
        '--join-method',
        'iam',
        '--certificate-ttl',
        '2h',
        '--renewal-interval',
        '30m',
        '--log-format',
        'json',
        '--debug',
      ],
      {
        config: 'f.yaml',
        joinMethod: 'iam',
        certificateTtl: '2h',
        renewalInterval: '30m',
        logFormat: 'json',
        debug: true,
      },
    ],
    [['start', '-c', 'f.yaml'], { config: 'f.yaml', logFormat: 'text' }],
    [['start', '-c', 'f.yaml', '-d'], { config: 'f.yaml', logFormat: 'text', debug: true }],
  ])('maps %j onto start', async (argv, expected) => {
    const calls: unknown[] = [];
    const program = buildMidbotProgram(fakeIo(), {
      start: async (options) => calls.push(options),
      init: async () => '',
      proxyApp: async () => {},
    });
    await program.parseAsync(['node', 'midbot', ...argv]);
    expect(calls).toEqual([expected]);
  });

  it.each([
    [
      [
        'init',
        '--destination-dir',
        '/opt/m',
        '--owner',
        'bot:bot',
        '--bot-user',
        'bot',
        '--reader-user',
        'app',
      ],
      { destinationDir: '/opt/m', owner: 'bot:bot', botUser: 'bot', readerUser: 'app' },
    ],
    [
      ['init', '-c', '/etc/midbot.yaml', '--init-dir=/opt/m', '--bot-user=bot', '--reader-user=app'],
      { config: '/etc/midbot.yaml', destinationDir: '/opt/m', botUser: 'bot', readerUser: 'app' },
    ],
  ])('maps %j onto init and prints what it did', async (argv, expected) => {
    const calls: unknown[] = [];
    const io = fakeIo();
    const program = buildMidbotProgram(io, {
      start: async () => undefined,
      init: async (options) => {
        calls.push(options);
        return 'created /opt/m\n';
      },
      proxyApp: async () => {},
    });
    await program.parseAsync(['node', 'midbot', ...argv]);
    expect(calls).toEqual([expected]);
    expect(io.stdout.join('')).toBe('created /opt/m\n');
  });

  it.each([
    [['start', '--bogus'], "ERROR: unknown option '--bogus' (run with --help for usage)"],
    [
      ['start', '--oneshto'],
      "ERROR: unknown option '--oneshto'; did you mean --oneshot? (run with --help for usage)",
    ],
    [
      ['init', '--destination-dir', '/opt/m', '--reader-user', 'app'],
      'ERROR: --bot-user is required, and was not given (run with --help for usage)',
    ],
    [
      ['start', '--log-format', 'yaml'],
      'ERROR: --log-format: got "yaml", expected one of text, json (run with --help for usage)',
    ],
    [['stat'], "ERROR: unknown command 'stat'; did you mean start? (run with --help for usage)"],
  ])("prints commander's refusal of %j as one ERROR line", async (argv, line) => {
    const io = fakeIo();
    const program = buildMidbotProgram(io, {
      start: async () => undefined,
      init: async () => '',
      proxyApp: async () => {},
    });
    await expect(program.parseAsync(['node', 'midbot', ...argv])).rejects.toMatchObject({ exitCode: 1 });
    expect(io.logs).toEqual([line]);
    expect(io.stdout).toEqual([]);
  });

  it.each([
    [
      '--proxy-server=proxy.example.com:443',
      '--proxy-server: got "proxy.example.com:443", midbot has no proxy: use --auth-server with the auth service address',
    ],
    [
      '--insecure',
      '--insecure: midbot always authenticates the auth service and has no insecure mode: pass --ca-pin with the pin printed by `midctl bots add` or `midctl status` (or set onboarding.public_tls: true for an auth service with a publicly trusted certificate)',
    ],
  ])('refuses the tbot flag %s with what to do instead, before starting', async (flag, message) => {
    const calls: unknown[] = [];
    const io = fakeIo();
    const program = buildMidbotProgram(io, {
      start: async (options) => calls.push(options),
      init: async () => '',
      proxyApp: async () => {},
    });
    await expect(program.parseAsync(['node', 'midbot', 'start', '--oneshot', flag])).rejects.toMatchObject({
      code: 'unsupported_flag',
      message,
    });
    expect(calls).toEqual([]);
  });

  it('keeps the tbot flags it refuses out of the help', async () => {
    const io = fakeIo();
    const program = buildMidbotProgram(io);
    await expect(program.parseAsync(['node', 'midbot', 'start', '--help'])).rejects.toMatchObject({
      exitCode: 0,
    });
    expect(io.stdout.join('')).not.toMatch(/--proxy-server|--insecure/);
  });

  it('collects repeated --ca-pin flags and refuses a bad one by flag name', async () => {
    const io = fakeIo();
    const program = buildMidbotProgram(io);
    await expect(
      program.parseAsync([
        'node',
        'midbot',
        'start',
        '--oneshot',
        '--auth-server',
        cluster.url,
        '--token',
        'tok',
        '--ca-pin',
        cluster.server.caPin,
        '--ca-pin',
        'sha256:nope',
      ]),
    ).rejects.toThrow(/^--ca-pin: got "sha256:nope", expected sha256: followed by 64 hex digits/);
  });

  it('says -c names a folder rather than that it cannot be read', async () => {
    const program = buildMidbotProgram(fakeIo());
    await expect(program.parseAsync(['node', 'midbot', 'start', '-c', work])).rejects.toThrow(
      `-c ${work}: is a folder, not a file; give the config file itself, e.g. -c /etc/midbot.yaml`,
    );
  });

  it('asks which folder to prepare when the config has several', async () => {
    configFile(
      'two.yaml',
      'tok',
      `outputs:
  - type: identity
    destination: {type: directory, path: /opt/a}
  - type: identity
    destination: {type: directory, path: /opt/b}
`,
    );
    const program = buildMidbotProgram(fakeIo());
    await expect(
      program.parseAsync([
        'node',
        'midbot',
        'init',
        '-c',
        'two.yaml',
        '--bot-user',
        'root',
        '--reader-user',
        'root',
      ]),
    ).rejects.toThrow(
      'two.yaml has 2 directory outputs (/opt/a, /opt/b); say which to prepare with --destination-dir',
    );
  });

  it('takes the folders from a file that leaves the other keys to the start flags', async () => {
    writeFileSync(
      join(work, 'outputs-for-init.yaml'),
      'version: v2\noutputs:\n  - type: identity\n    destination: {type: directory, path: /opt/a}\n  - type: identity\n    destination: {type: directory, path: /opt/b}\n',
    );
    const program = buildMidbotProgram(fakeIo());
    await expect(
      program.parseAsync([
        'node',
        'midbot',
        'init',
        '-c',
        'outputs-for-init.yaml',
        '--bot-user=root',
        '--reader-user=root',
      ]),
    ).rejects.toThrow(
      'outputs-for-init.yaml has 2 directory outputs (/opt/a, /opt/b); say which to prepare with --destination-dir',
    );
  });
});
