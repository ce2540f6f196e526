import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AuthServerProcess,
  addBotWithMidctl as addBot,
  runMidbot as runMidbotProcess,
  runMidctl,
  startAuthServerProcess,
  startMidbotProcess,
} from '../support/cli.js';

const ROLE = `kind: role
version: v6
metadata:
  name: ops
spec:
  allow:
    logins: ['root']
`;

/**
 * What a person meets when something is wrong, with the real CLI: one `ERROR:` line naming the cause
 * and a non-zero exit, nothing written where nothing should be, and a daemon that rides out an auth
 * service outage with its last artifacts in place.
 */
describe('midbot when things go wrong', () => {
  let dir: string;
  let server: AuthServerProcess;
  const tokens: string[] = [];
  const printed: string[] = [];
  const runMidbot = async (args: string[]) => {
    const result = await runMidbotProcess(args);
    printed.push(result.stdout, result.stderr);
    return result;
  };
  const addBotWithMidctl = async (dataDir: string, name: string, roles: string[]) => {
    const bot = await addBot(dataDir, name, roles);
    tokens.push(bot.token);
    return bot;
  };
  /** midctl against the shared auth service. */
  const admin = (args: string[]) => runMidctl(['--data-dir', server.dataDir, ...args]);
  /** A midbot daemon of `bot` on the shared auth service, its storage and outputs under `<name>-data`, `<name>-out`. */
  const startDaemon = (bot: { token: string; caPin: string }, name: string) =>
    startMidbotProcess([
      'start',
      '--auth-server',
      server.url,
      '--ca-pin',
      bot.caPin,
      '--data-dir',
      join(dir, `${name}-data`),
      '--token',
      bot.token,
      '--destination-dir',
      join(dir, `${name}-out`),
    ]);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'midbot-e2e-fail-'));
    server = await startAuthServerProcess(join(dir, 'data'), ['--cluster-name', 'example.test']);
    writeFileSync(join(dir, 'role.yaml'), ROLE);
    expect(
      (await runMidctl(['--data-dir', server.dataDir, 'create', '-f', join(dir, 'role.yaml')])).code,
    ).toBe(0);
  });

  /** The `bot.*` audit events of `bot`, as `type:code` (`bot.lock:operator_lock`), from `midctl events ls`. */
  const auditedFor = async (bot: string): Promise<string[]> => {
    const events = await admin(['events', 'ls', '--type', 'bot', '--format', 'json']);
    return (JSON.parse(events.stdout) as Array<{ type: string; code?: string; bot?: string }>)
      .filter((event) => event.bot === bot)
      .map((event) => `${event.type}${event.code === undefined ? '' : `:${event.code}`}`);
  };

  afterAll(async () => {
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const flags = (token: string, caPin: string, out: string, extra: string[] = []) => [
    'start',
    '--oneshot',
    '--auth-server',
    server.url,
    '--token',
    token,
    '--ca-pin',
    caPin,
    '--destination-dir',
    out,
    ...extra,
  ];

  it('aborts on a wrong --ca-pin, showing the pin the service presented, and keeps the token unspent', async () => {
    const bot = await addBotWithMidctl(server.dataDir, 'pinned', ['ops']);
    const wrong = `sha256:${'0'.repeat(64)}`;
    const refused = await runMidbot(flags(bot.token, wrong, join(dir, 'pinned-wrong')));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      new RegExp(
        `^ERROR: connecting to the auth service failed: .*presented CA ${server.caPin}.*${wrong}`,
        'm',
      ),
    );
    expect(existsSync(join(dir, 'pinned-wrong'))).toBe(false);
    expect(refused.stderr).not.toContain(bot.token);

    const accepted = await runMidbot(flags(bot.token, bot.caPin, join(dir, 'pinned')));
    expect(accepted.code).toBe(0);
  });

  it('refuses a token used twice with one ERROR line that says what to do', async () => {
    const bot = await addBotWithMidctl(server.dataDir, 'twice', ['ops']);
    expect((await runMidbot(flags(bot.token, bot.caPin, join(dir, 'twice-1')))).code).toBe(0);
    const again = await runMidbot(flags(bot.token, bot.caPin, join(dir, 'twice-2')));
    expect(again.code).toBe(1);
    const errors = again.stderr.split('\n').filter((line) => line.startsWith('ERROR:'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/this join token was already used.*midctl tokens add --type=bot/);
    // Without --data-dir nothing was saved: no advice to restart from storage, one way to a new token,
    // and the flag that spares the next restart one.
    expect(errors[0]?.match(/midctl tokens add/g)).toHaveLength(1);
    expect(errors[0]).not.toContain('restart the bot from it');
    expect(errors[0]).toMatch(
      /pass it with --token \(or MID_BOT_TOKEN\) or onboarding\.token\. With --data-dir DIR/,
    );
    expect(again.stdout + again.stderr).not.toContain(bot.token);
  });

  it('with --log-format json, says why it stops in JSON too', async () => {
    const bot = await addBotWithMidctl(server.dataDir, 'json-twice', ['ops']);
    expect((await runMidbot(flags(bot.token, bot.caPin, join(dir, 'json-1')))).code).toBe(0);
    const again = await runMidbot([
      ...flags(bot.token, bot.caPin, join(dir, 'json-2')),
      '--log-format',
      'json',
    ]);

    expect(again.code).toBe(1);
    const lines = again.stderr.split('\n').filter((line) => line !== '');
    for (const line of lines) expect(() => JSON.parse(line), line).not.toThrow();
    expect(JSON.parse(lines.at(-1) ?? '{}')).toMatchObject({
      level: 'error',
      code: 'token_already_used',
      message: expect.stringContaining('this join token was already used'),
    });

    // A usage error too, although the flags could not be parsed.
    const usage = await runMidbot(['start', '--log-format', 'json', '--no-such-flag']);
    expect(usage.code).toBe(1);
    expect(JSON.parse(usage.stderr.trim())).toMatchObject({
      level: 'error',
      code: 'invalid_usage',
      message: expect.stringContaining("unknown option '--no-such-flag'"),
    });
  });

  it('names the path and line of an unknown key in the config file, and the key it most likely meant', async () => {
    const file = join(dir, 'typo.yaml');
    writeFileSync(
      file,
      `version: v2
auth_server: "${server.url}"
onboarding:
  join_method: token
  token: "some-token"
  ca_pins: ["${server.caPin}"]
storage:
  type: memory
outputs:
  - type: identity
    destination:
      type: directory
      paht: /opt/machine-id
`,
    );
    const result = await runMidbot(['start', '--oneshot', '-c', file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(
        `^ERROR: ${file}: .*outputs\\[0\\]\\.destination \\(line 13\\): unknown key "paht"; did you mean "path"\\?$`,
        'm',
      ),
    );
    expect(result.stderr).not.toContain('some-token');
  });

  it('refuses to write through a symlink planted at <dest>/key and leaves its target alone', async () => {
    const bot = await addBotWithMidctl(server.dataDir, 'planted', ['ops']);
    const out = join(dir, 'planted-out');
    mkdirSync(out, { mode: 0o700 });
    const outside = join(dir, 'outside-secret');
    writeFileSync(outside, 'precious\n');
    symlinkSync(outside, join(out, 'key'));
    const result = await runMidbot(flags(bot.token, bot.caPin, out));
    expect(result.code).toBe(1);
    // Found before the join, which leaves the token unspent.
    expect(result.stderr).toMatch(
      /^ERROR: checking that outputs\[0\] \(identity\) can be written failed: .*planted-out\/key is a symlink; midbot never writes through symlinks.* the token is not spent/m,
    );
    expect(readFileSync(outside, 'utf8')).toBe('precious\n');
    expect(readdirSync(out)).toEqual(['key']);
  });

  it("refuses a second bot's output in a folder that holds the first bot's, keeping the first bot's certificate", async () => {
    const first = await addBotWithMidctl(server.dataDir, 'shared-one', ['ops']);
    const second = await addBotWithMidctl(server.dataDir, 'shared-two', ['ops']);
    const out = join(dir, 'shared-out');
    expect((await runMidbot(flags(first.token, first.caPin, out))).code).toBe(0);
    const firstCertificate = readFileSync(join(out, 'key-cert.pub'), 'utf8');

    const result = await runMidbot(
      flags(second.token, second.caPin, out, ['--data-dir', join(dir, 'shared-two-data')]),
    );

    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `holds the artifacts of bot "shared-one" (.midbot-files.json says so), and this output is bot "shared-two"'s`,
    );
    expect(readFileSync(join(out, 'key-cert.pub'), 'utf8')).toBe(firstCertificate);
  });

  it('keeps the artifacts while the auth service is down, retries, recovers, and re-renders on SIGHUP', async () => {
    const data = join(dir, 'outage-data');
    let auth = await startAuthServerProcess(data, ['--cluster-name', 'outage.test']);
    const port = new URL(auth.url).port;
    expect((await runMidctl(['--data-dir', data, 'create', '-f', join(dir, 'role.yaml')])).code).toBe(0);
    const bot = await addBotWithMidctl(data, 'daemon', ['ops']);
    const out = join(dir, 'daemon-out');
    const midbot = startMidbotProcess([
      'start',
      '--auth-server',
      auth.url,
      '--token',
      bot.token,
      '--ca-pin',
      bot.caPin,
      '--data-dir',
      join(dir, 'daemon-storage'),
      '--destination-dir',
      out,
      // The shortest interval there is; SIGHUP below makes the run that meets the outage happen now.
      '--renewal-interval',
      '1m',
      '--certificate-ttl',
      '10m',
    ]);
    try {
      await midbot.waitForLog(/Wrote 1 of 1 outputs/);
      const snapshot = () =>
        Object.fromEntries(readdirSync(out).map((name) => [name, readFileSync(join(out, name), 'base64')]));
      await auth.stop();
      const before = snapshot();
      midbot.process.kill('SIGHUP');
      await midbot.waitForLog(/retrying in \S+ attempt=2/);
      expect(snapshot()).toEqual(before);
      expect(midbot.logs()).toMatch(
        /WARN {2}renewing the bot identity failed: cannot reach the auth service at https:\/\/127\.0\.0\.1:\d+: ECONNREFUSED.*The artifacts of the last good run stay in place; retrying in (\d+ms|1s) attempt=1/,
      );

      auth = await startAuthServerProcess(data, ['--listen', `127.0.0.1:${port}`]);
      const written = (midbot.logs().match(/Wrote 1 of 1 outputs/g) ?? []).length;
      await midbot.waitForLog(/Wrote 1 of 1 outputs/, written + 1);
      expect(snapshot()['tlscert']).not.toBe(before['tlscert']);

      const hup = (midbot.logs().match(/Wrote 1 of 1 outputs/g) ?? []).length;
      midbot.process.kill('SIGHUP');
      await midbot.waitForLog(/Reload requested/);
      await midbot.waitForLog(/Wrote 1 of 1 outputs/, hup + 1);
    } finally {
      const code = await midbot.stop();
      await auth.stop();
      expect(code).toBe(0);
    }
    printed.push(midbot.logs());
    expect(midbot.logs()).toContain('Stopped');
    expect(midbot.logs()).not.toContain(bot.token);
  }, 60_000);

  it('refuses a second midbot on a --data-dir in use, removes the lock on SIGTERM, and restarts without --token', async () => {
    const bot = await addBotWithMidctl(server.dataDir, 'locked', ['ops']);
    const data = join(dir, 'locked-data');
    const lockFile = join(data, 'midbot.lock');
    const common = ['--auth-server', server.url, '--ca-pin', bot.caPin, '--data-dir', data];
    const daemon = startMidbotProcess([
      'start',
      ...common,
      '--token',
      bot.token,
      '--destination-dir',
      join(dir, 'locked-out'),
    ]);
    try {
      await daemon.waitForLog(/Wrote 1 of 1 outputs/);
      expect(readFileSync(lockFile, 'utf8')).toBe(`${daemon.process.pid} ${hostname()}\n`);
      const second = await runMidbot([
        'start',
        '--oneshot',
        ...common,
        '--destination-dir',
        join(dir, 'locked-out-2'),
      ]);
      expect(second.code).toBe(1);
      const errors = second.stderr.split('\n').filter((line) => line.startsWith('ERROR:'));
      expect(errors).toHaveLength(1);
      expect(errors[0]).toContain(
        `ERROR: --data-dir ${data} is in use by midbot pid ${daemon.process.pid} (lock file ${lockFile})`,
      );
      expect(existsSync(join(dir, 'locked-out-2'))).toBe(false);
    } finally {
      expect(await daemon.stop()).toBe(0);
      printed.push(daemon.logs());
    }
    expect(existsSync(lockFile)).toBe(false);

    const resumed = await runMidbot([
      'start',
      '--oneshot',
      ...common,
      '--destination-dir',
      join(dir, 'locked-out'),
    ]);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain('Renewed the bot identity');
    expect(existsSync(lockFile)).toBe(false);
  }, 60_000);

  it('stops a bot instance that an operator locks, with their message, and lets it renew again once unlocked', async () => {
    const bot = await addBotWithMidctl(server.dataDir, 'suspect', ['ops']);
    const common = [
      '--auth-server',
      server.url,
      '--ca-pin',
      bot.caPin,
      '--data-dir',
      join(dir, 'suspect-data'),
    ];
    const out = join(dir, 'suspect-out');
    const run = (extra: string[] = []) =>
      runMidbot(['start', '--oneshot', ...common, '--destination-dir', out, ...extra]);
    expect((await run(['--token', bot.token])).code).toBe(0);
    const listed = await admin(['bots', 'instances', 'ls', 'suspect', '--format', 'json']);
    const [instance] = JSON.parse(listed.stdout) as Array<{ metadata: { name: string } }>;
    const ref = `bot_instance/suspect/${instance?.metadata.name}`;
    const identityBefore = readFileSync(join(out, 'identity'), 'utf8');

    const locked = await admin(['lock', ref, '--message', 'key seen in a public log']);
    printed.push(locked.stdout, locked.stderr);
    expect(locked.code).toBe(0);
    expect(locked.stdout).toContain(
      `bot instance suspect/${instance?.metadata.name} is locked: key seen in a public log`,
    );
    expect(locked.stdout).toContain(`Lift the lock with \`midctl unlock ${ref}\``);

    const refused = await run();
    expect(refused.code).toBe(1);
    const errors = refused.stderr.split('\n').filter((line) => line.startsWith('ERROR:'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toContain('was locked by an operator');
    expect(errors[0]).toContain('key seen in a public log');
    expect(errors[0]).toContain(`midctl unlock ${ref}`);
    // Waiting for the unlock is the way out, not a new token, which would get round the lock.
    expect(refused.stderr).not.toContain('tokens add');
    // What it wrote before stays, untouched by the refused run.
    expect(readFileSync(join(out, 'identity'), 'utf8')).toBe(identityBefore);
    const status = await admin(['bots', 'instances', 'ls', 'suspect']);
    expect(status.stdout).toContain('locked');
    const locks = await admin(['locks', 'ls']);
    expect(locks.stdout).toMatch(
      new RegExp(`^${ref} +local-admin +\\S+ +by midctl unlock +key seen in a public log$`, 'm'),
    );

    const unlocked = await admin(['unlock', ref]);
    printed.push(unlocked.stdout, unlocked.stderr);
    expect(unlocked.code).toBe(0);
    expect(unlocked.stdout).toContain('is unlocked');
    const resumed = await run();
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain('Renewed the bot identity');

    expect(await auditedFor('suspect')).toEqual(
      expect.arrayContaining([
        'bot.lock:operator_lock',
        'bot.authenticate:instance_locked_by_operator',
        'bot.unlock',
      ]),
    );
  }, 60_000);

  it('keeps a running midbot retrying while an operator has its instance locked, and it carries on once unlocked', async () => {
    const bot = await addBotWithMidctl(server.dataDir, 'waiter', ['ops']);
    const daemon = startDaemon(bot, 'waiter');
    try {
      await daemon.waitForLog(/Wrote 1 of 1 outputs/);
      const listed = await admin(['bots', 'instances', 'ls', 'waiter', '--format', 'json']);
      const [instance] = JSON.parse(listed.stdout) as Array<{ metadata: { name: string } }>;
      const ref = `bot_instance/waiter/${instance?.metadata.name}`;
      expect((await admin(['lock', ref, '--message', 'hold on'])).code).toBe(0);
      // SIGHUP: renew now rather than in 20 minutes.
      daemon.process.kill('SIGHUP');
      await daemon.waitForLog(/was locked by an operator at \S+: hold on\..*retrying in/);
      expect((await admin(['unlock', ref])).code).toBe(0);
      await daemon.waitForLog(/Wrote 1 of 1 outputs/, 2, 20_000);
      expect(daemon.logs()).not.toContain('tokens add');
    } finally {
      expect(await daemon.stop()).toBe(0);
      printed.push(daemon.logs());
    }
  }, 60_000);

  it("keeps a running midbot retrying while one of its bot's roles is locked, and it carries on once unlocked", async () => {
    writeFileSync(join(dir, 'role-ci.yaml'), ROLE.replace('name: ops', 'name: ci'));
    expect((await admin(['create', '-f', join(dir, 'role-ci.yaml')])).code).toBe(0);
    const bot = await addBotWithMidctl(server.dataDir, 'roled', ['ci']);
    const daemon = startDaemon(bot, 'roled');
    try {
      await daemon.waitForLog(/Wrote 1 of 1 outputs/);
      const locked = await admin(['lock', 'role/ci', '--message', 'ci role under review']);
      printed.push(locked.stdout, locked.stderr);
      expect(locked.code).toBe(0);
      expect(locked.stdout).toMatch(/^role "ci" is locked: ci role under review\n/);
      expect((await admin(['locks', 'ls'])).stdout).toMatch(
        /^role\/ci +local-admin +\S+ +by midctl unlock +ci role under review$/m,
      );
      daemon.process.kill('SIGHUP');
      await daemon.waitForLog(
        /bot \\?"roled\\?" holds role \\?"ci\\?", which an operator locked at \S+: ci role under review\..*retrying in/,
      );
      const unlocked = await admin(['unlock', 'role/ci']);
      expect(unlocked.stdout).toMatch(/^role "ci" is unlocked /);
      await daemon.waitForLog(/Wrote 1 of 1 outputs/, 2, 20_000);
      expect(await auditedFor('roled')).toContain('bot.renew:role_locked');
    } finally {
      expect(await daemon.stop()).toBe(0);
      printed.push(daemon.logs());
    }
  }, 60_000);

  it('stops a whole bot with a lock that expires: its running midbot waits, a join is refused without spending the token, and both carry on after', async () => {
    const bot = await addBotWithMidctl(server.dataDir, 'fleet', ['ops']);
    const daemon = startDaemon(bot, 'fleet');
    try {
      await daemon.waitForLog(/Wrote 1 of 1 outputs/);
      const added = await admin(['tokens', 'add', '--type=bot', '--bot-name=fleet', '--format', 'json']);
      const { token } = JSON.parse(added.stdout) as { token: string };

      const locked = await admin(['lock', 'bot/fleet', '--ttl', '6s', '--message', 'runner compromised']);
      printed.push(locked.stdout, locked.stderr);
      expect(locked.code).toBe(0);
      expect(locked.stdout).toMatch(/^bot "fleet" is locked \(until \S+\): runner compromised\n/);
      expect(locked.stdout).toContain('Lift the lock with `midctl unlock bot/fleet`, or let it expire.');
      // A second lock does not quietly take the place of the first.
      const again = await admin(['lock', 'bot/fleet', '--ttl', '1s']);
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(
        /^ERROR: bot "fleet" is already locked, by local-admin from \S+ \(until \S+\): runner compromised; to put this lock in its place, lock again with replace \(midctl lock --replace\)\n$/,
      );
      const replaced = await admin([
        'lock',
        'bot/fleet',
        '--ttl',
        '6s',
        '--message',
        'runner compromised',
        '--replace',
      ]);
      expect(replaced.code).toBe(0);
      expect(replaced.stdout).toContain('It takes the place of the lock in force');
      expect((await admin(['bots', 'ls'])).stdout).toMatch(/fleet +ops +until \S+/);
      // Its instance is shown as held by the bot's lock, not as active.
      expect((await admin(['bots', 'instances', 'ls', 'fleet'])).stdout).toMatch(/ bot locked until \S+\n$/);
      expect((await admin(['locks', 'ls'])).stdout).toMatch(
        /^bot\/fleet +local-admin +\S+ +at \S+ +runner compromised$/m,
      );

      daemon.process.kill('SIGHUP');
      await daemon.waitForLog(
        /bot "fleet" was locked by an operator at \S+: runner compromised\. It lifts by itself at \S+, or an operator lifts it with `midctl unlock bot\/fleet`.*retrying in/,
      );
      const out = join(dir, 'fleet-second-out');
      const second = (extra: string[] = []) =>
        runMidbot([
          'start',
          '--oneshot',
          '--auth-server',
          server.url,
          '--ca-pin',
          bot.caPin,
          '--token',
          token,
          '--destination-dir',
          out,
          ...extra,
        ]);
      const refused = await second();
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain('bot "fleet" was locked by an operator');
      expect(refused.stderr).toContain('the join token was not used');
      expect(existsSync(join(out, 'identity'))).toBe(false);

      // The lock expires by itself: the daemon writes again, and the same token joins.
      await daemon.waitForLog(/Wrote 1 of 1 outputs/, 2, 30_000);
      expect(daemon.logs()).not.toContain('tokens add');
      const joined = await second();
      expect(joined.code).toBe(0);
      expect(joined.stderr).toContain('Joined the cluster as bot "fleet"');
      expect((await admin(['bots', 'ls'])).stdout).not.toContain('until');

      expect(await auditedFor('fleet')).toEqual(
        expect.arrayContaining([
          'bot.lock:operator_lock',
          'bot.authenticate:bot_locked',
          'bot.join:bot_locked',
        ]),
      );
    } finally {
      expect(await daemon.stop()).toBe(0);
      printed.push(daemon.logs());
    }
  }, 90_000);

  it('refuses an unwritable --data-dir before joining, so the same token still joins afterwards', async () => {
    const bot = await addBotWithMidctl(server.dataDir, 'unwritable', ['ops']);
    const blocker = join(dir, 'data-is-a-file');
    writeFileSync(blocker, 'not a folder\n');
    const out = join(dir, 'unwritable-out');
    const refused = await runMidbot(flags(bot.token, bot.caPin, out, ['--data-dir', join(blocker, 'data')]));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      `ERROR: checking that storage can be written failed: cannot write ${join(blocker, 'data')}: ${blocker} is a file, not a folder (ENOTDIR); move it away or choose another path. midbot checks this before it joins or renews, so the join token and any stored identity are unchanged.\n`,
    );
    expect(existsSync(out)).toBe(false);

    const accepted = await runMidbot(
      flags(bot.token, bot.caPin, out, ['--data-dir', join(dir, 'unwritable-fixed')]),
    );
    expect(accepted.code).toBe(0);
    expect(accepted.stderr).toContain('Joined the cluster as bot "unwritable"');
  });

  it("prints commander's own refusals as one ERROR line, as midctl does", async () => {
    const result = await runMidbot(['start', '--oneshto']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      "ERROR: unknown option '--oneshto'; did you mean --oneshot? (run with --help for usage)\n",
    );
  });

  it('never printed a token or a private key in any of the runs above', () => {
    const everything = printed.join('\n');
    expect(tokens.length).toBeGreaterThan(3);
    for (const token of tokens) expect(everything).not.toContain(token);
    expect(everything).not.toMatch(/PRIVATE KEY|BEGIN CERTIFICATE/);
  });
});
