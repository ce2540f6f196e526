import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CLUSTER_NAME_RULE } from '../../lib/auth/local/cluster-name.js';
import { type AuthServerProcess, runMidctl, startAuthServerProcess } from '../support/cli.js';

/** What a refused command printed: it must be exactly one `ERROR:` line on stderr, exit code 1. */
function oneErrorLine(result: { code: number | null; stdout: string; stderr: string }): string {
  expect(result.code).toBe(1);
  expect(result.stdout).toBe('');
  const lines = result.stderr.split('\n').filter((line) => line !== '');
  expect(lines).toHaveLength(1);
  expect(lines[0]).toMatch(/^ERROR: /);
  return lines[0] ?? '';
}

describe('midctl auth start as real processes', () => {
  const root = mkdtempSync(join(tmpdir(), 'mid-auth-processes-'));
  const servers: AuthServerProcess[] = [];
  afterEach(async () => {
    for (const server of servers.splice(0)) await server.stop();
  });
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('refuses a second service on the same data directory; midctl keeps reaching the first', async () => {
    const dataDir = join(root, 'shared');
    const first = await startAuthServerProcess(dataDir, ['--cluster-name', 'example.test']);
    servers.push(first);
    const serverInfo = readFileSync(join(dataDir, 'auth-server.json'), 'utf8');

    const second = await runMidctl(['--data-dir', dataDir, 'auth', 'start', '--listen', '127.0.0.1:0']);
    expect(oneErrorLine(second)).toBe(
      `ERROR: --data-dir ${dataDir} is in use by the auth service pid ${first.process.pid} at ${first.url}; stop that service first or use another --data-dir (if no auth service runs there, delete ${join(dataDir, 'auth-server.lock')})`,
    );
    expect(readFileSync(join(dataDir, 'auth-server.json'), 'utf8')).toBe(serverInfo);
    const status = await runMidctl(['--data-dir', dataDir, 'status', '--format', 'json']);
    expect(status.code).toBe(0);
    expect(JSON.parse(status.stdout)).toMatchObject({ cluster_name: 'example.test', auth_server: first.url });

    // Stopped, the first service releases the directory for the next one.
    await first.stop();
    expect(existsSync(join(dataDir, 'auth-server.lock'))).toBe(false);
    const next = await startAuthServerProcess(dataDir);
    servers.push(next);
    const again = await runMidctl(['--data-dir', dataDir, 'status', '--format', 'json']);
    expect(JSON.parse(again.stdout)).toMatchObject({ auth_server: next.url });
  });

  it('starts again where the last start listened, with its public names, unless told otherwise', async () => {
    const dataDir = join(root, 'restarted');
    const first = await startAuthServerProcess(dataDir, ['--public-addr', 'auth.internal.test']);
    await first.stop();

    const again = await startAuthServerProcess(dataDir, [], { listen: false });
    servers.push(again);

    expect(again.url).toBe(first.url);
    expect(again.logs()).toContain('listening where the last start did (--listen changes it)');
    expect(again.logs()).toContain('serving the names of the last start (--public-addr changes them)');
    const info = JSON.parse(readFileSync(join(dataDir, 'auth-server.json'), 'utf8'));
    expect(info.public_addrs).toEqual(['auth.internal.test']);
    await again.stop();

    // Flags given win, and a data directory never started gets the defaults (not exercised: 3025 may be taken).
    const moved = await startAuthServerProcess(dataDir, ['--public-addr', 'other.internal.test']);
    servers.push(moved);
    expect(moved.logs()).not.toContain('listening where the last start did');
    expect(JSON.parse(readFileSync(join(dataDir, 'auth-server.json'), 'utf8')).public_addrs).toEqual([
      'other.internal.test',
    ]);
  });

  it('takes over the directory of a service that was killed', async () => {
    const dataDir = join(root, 'killed');
    const killed = await startAuthServerProcess(dataDir);
    const exited = once(killed.process, 'exit');
    killed.process.kill('SIGKILL');
    await exited;
    expect(existsSync(join(dataDir, 'auth-server.lock'))).toBe(true);
    const next = await startAuthServerProcess(dataDir);
    servers.push(next);
    expect(readFileSync(join(dataDir, 'auth-server.lock'), 'utf8')).toBe(
      `${next.process.pid} ${hostname()}\n`,
    );
  });

  it.each([
    ['bad name!', 'a space is not allowed (write bad-name)'],
    ['Example_Test', 'upper-case letters are not allowed (write example-test)'],
    ['UPPER..test', 'upper-case letters are not allowed'],
  ])(
    'refuses --cluster-name %j in one ERROR line, suggesting a valid name if there is one, and writes nothing',
    async (name, why) => {
      const dataDir = join(root, 'bad-name');
      const refused = await runMidctl([
        '--data-dir',
        dataDir,
        'auth',
        'start',
        '--cluster-name',
        name,
        '--listen',
        '127.0.0.1:0',
      ]);
      expect(oneErrorLine(refused)).toBe(
        `ERROR: --cluster-name: got ${JSON.stringify(name)}, ${why}; ${CLUSTER_NAME_RULE}`,
      );
      expect(existsSync(dataDir)).toBe(false);
    },
  );
});

describe("commander's own refusals", () => {
  it.each([
    [['status', '--bogus'], "ERROR: unknown option '--bogus' (run with --help for usage)"],
    // -d out of the habit of tctl, teleport and tbot, where it means --debug.
    [
      ['auth', 'start', '-d'],
      'ERROR: --data-dir: expected a value after it; -d is --data-dir in midctl: for debug logs, use --debug (midctl auth start --debug) (run with --help for usage)',
    ],
    [
      ['status', '--formt', 'json'],
      "ERROR: unknown option '--formt'; did you mean --format? (run with --help for usage)",
    ],
    [
      ['tokens', 'add', '--bot-name=x'],
      'ERROR: --type is required, and was not given (run with --help for usage)',
    ],
    // Teleport 15+ makes a bot without roles; here the refusal says so, before needing a data directory.
    [
      ['bots', 'add', 'x'],
      'ERROR: bots add needs --roles: a bot holds at least one role from the start (no bot without roles, as Teleport 15+ makes, to add roles to later); e.g. midctl bots add x --roles=access',
    ],
    // A typo comes before the required flag it left out, and --flag=value gets a suggestion too.
    [
      ['bots', 'add', 'x', '--role=access'],
      "ERROR: unknown option '--role'; did you mean --roles? (run with --help for usage)",
    ],
    [
      ['bots', 'add', 'x', '--role', 'access'],
      "ERROR: unknown option '--role'; did you mean --roles? (run with --help for usage)",
    ],
    [
      ['tokens', 'add', '--type=bot', '--botname=x'],
      "ERROR: unknown option '--botname'; did you mean --bot-name? (run with --help for usage)",
    ],
    [
      ['create', '--files=roles.yaml'],
      "ERROR: unknown option '--files'; did you mean --file? (run with --help for usage)",
    ],
    [
      ['status', '--format', 'yaml'],
      'ERROR: --format: got "yaml", expected one of text, json (run with --help for usage)',
    ],
  ])('midctl %j prints one ERROR line', async (args, expected) => {
    expect(oneErrorLine(await runMidctl(args))).toBe(expected);
  });
});
