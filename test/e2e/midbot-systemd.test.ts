import { spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  existsSync,
  mkdirSync,
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
import { quoteArgument, renderSystemdUnit } from '../../lib/midbot/systemd-unit.js';
import { type Cluster, startCluster } from '../bot/agent/agent-fixture.js';
import { MIDBOT, runMidbot } from '../support/cli.js';
import { runCommand } from '../support/run-command.js';

let cluster: Cluster;
let work: string;
const systemdAnalyze = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((file) => existsSync(file));

beforeAll(async () => {
  cluster = await startCluster();
  work = mkdtempSync(join(tmpdir(), 'midbot-systemd-'));
});

afterAll(async () => {
  await cluster?.dispose();
  rmSync(work, { recursive: true, force: true });
});

/** A daemon config for the test cluster, its folders in `work`. */
function writeConfig(name: string, token: string, extra = ''): string {
  const file = join(work, `${name}.yaml`);
  writeFileSync(
    file,
    `version: v2
auth_server: "${cluster.url}"
onboarding: {join_method: token, token: "${token}", ca_pins: ["${cluster.server.caPin}"]}
storage: {type: directory, path: ${join(work, `${name}-data`)}}
outputs:
  - type: identity
    destination: {type: directory, path: ${join(work, `${name}-out`)}}
${extra}`,
  );
  return file;
}

/** The value of `key=` in the unit's text (the last one). */
function unitValue(unit: string, key: string): string {
  const values = unit.split('\n').filter((line) => line.startsWith(`${key}=`));
  const last = values.at(-1);
  if (last === undefined) throw new Error(`no ${key}= in the unit:\n${unit}`);
  return last.slice(key.length + 1);
}

describe('midbot install systemd', () => {
  it('prints a unit whose ExecStart runs the daemon and whose ExecReload re-renders it', async () => {
    const config = writeConfig('daemon', await cluster.addBot('systemd-daemon', ['ops']));
    const printed = await runMidbot(['install', 'systemd', '-c', config, '--user', 'midbot']);
    expect(printed.stderr).toBe('');
    expect(printed.code).toBe(0);
    const unit = printed.stdout;
    expect(unitValue(unit, 'User')).toBe('midbot');
    expect(unitValue(unit, 'Group')).toBe('midbot');
    expect(unit).toContain(`ReadWritePaths=-${join(work, 'daemon-data')}\n`);
    expect(unit).toContain(`ReadWritePaths=-${join(work, 'daemon-out')}\n`);
    // What systemd runs: node and the real path of the built midbot, then start -c with the config.
    const execStart = unitValue(unit, 'ExecStart').split(' ');
    expect(execStart).toEqual([process.execPath, MIDBOT, 'start', '-c', config]);

    const [program, ...args] = execStart as [string, ...string[]];
    const daemon = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let log = '';
    daemon.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      log += chunk;
    });
    const written = (count: number) =>
      expect.poll(() => log.match(/Wrote 1 of 1 outputs/g)?.length ?? 0, { timeout: 20_000 }).toBe(count);
    try {
      await written(1);
      // ExecReload, as systemd runs it ($MAINPID is the daemon's pid).
      const reload = unitValue(unit, 'ExecReload').replace('$MAINPID', String(daemon.pid)).split(' ');
      const [kill, ...killArgs] = reload as [string, ...string[]];
      expect((await runCommand(kill, killArgs)).code).toBe(0);
      await written(2);
    } finally {
      daemon.kill('SIGTERM');
    }
    const [code] = (await once(daemon, 'exit')) as [number | null];
    expect(code).toBe(0);
    expect(readFileSync(join(work, 'daemon-out', 'tlscert'), 'utf8')).toContain('BEGIN CERTIFICATE');
  });

  it.runIf(systemdAnalyze !== undefined)(
    'writes a unit that systemd-analyze verify accepts without a warning, paths with spaces and % included',
    async () => {
      const config = writeConfig(
        'verify',
        'a-token-never-used',
        `  - type: application\n    app_name: grafana\n    destination: {type: directory, path: "${join(work, 'app out 100%')}"}\n`,
      );
      const units = join(work, 'units');
      mkdirSync(units);
      const install = [
        'install',
        'systemd',
        '-c',
        config,
        '--user',
        'root',
        '--name',
        'midbot-verify',
        '--write',
        '--systemd-directory',
        units,
      ];
      const wrote = await runMidbot(install);
      expect(wrote.code).toBe(0);
      const file = join(units, 'midbot-verify.service');
      expect(wrote.stdout).toContain(`Wrote ${file}.`);
      expect(wrote.stdout).toContain('systemctl enable --now midbot-verify');
      expect(statSync(file).mode & 0o777).toBe(0o644);
      expect(readFileSync(file, 'utf8')).toContain(`ReadWritePaths="-${join(work, 'app out 100%%')}"`);
      const verified = await runCommand(systemdAnalyze as string, ['verify', file]);
      expect(verified.stderr).toBe('');
      expect(verified.code).toBe(0);

      const again = await runMidbot(install);
      expect(again.code).toBe(1);
      expect(again.stderr).toBe(
        `ERROR: ${file} exists already; give --force to replace it, or --name to write another unit\n`,
      );
    },
  );

  it.each([
    [['--user', 'midbot', '--name', 'bad name'], '--name: got "bad name", expected a unit name'],
    [['--user', 'mid bot'], '--user: got "mid bot", expected a user name or uid, e.g. --user=midbot'],
    [
      ['--user', 'midbot', '--write', '--systemd-directory', '/nonexistent/systemd'],
      '--systemd-directory: /nonexistent/systemd does not exist; is this a systemd host?',
    ],
  ])('refuses %j, naming the flag', async (flags, message) => {
    const config = writeConfig('refused', 'a-token-never-used');
    const result = await runMidbot(['install', 'systemd', '-c', config, ...flags]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`ERROR: ${message}`);
  });

  it('refuses a oneshot config, which would end and be restarted again and again', async () => {
    const config = writeConfig('oneshot', 'a-token-never-used', 'oneshot: true\n');
    const result = await runMidbot(['install', 'systemd', '-c', config, '--user', 'midbot']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^ERROR: \S+oneshot\.yaml: oneshot: true: a service runs midbot as a daemon/,
    );
  });

  it('does not write through a symlink at the unit, even with --force', async () => {
    const config = writeConfig('linked', 'a-token-never-used');
    const units = join(work, 'linked-units');
    mkdirSync(units);
    writeFileSync(join(work, 'target'), 'untouched\n');
    symlinkSync(join(work, 'target'), join(units, 'midbot.service'));
    const result = await runMidbot([
      'install',
      'systemd',
      '-c',
      config,
      '--user',
      'midbot',
      '--write',
      '--force',
      '--systemd-directory',
      units,
    ]);
    expect(result.stderr).toContain('is a symlink; remove it first');
    expect(readFileSync(join(work, 'target'), 'utf8')).toBe('untouched\n');
  });
});

describe('systemd unit text', () => {
  it.each([
    ['/opt/machine-id', '/opt/machine-id'],
    ['/opt/machine id', '"/opt/machine id"'],
    ['/opt/100%', '/opt/100%%'],
    ['/opt/$HOME', '/opt/$$HOME'],
  ])('writes %s as %s', (word, quoted) => {
    expect(quoteArgument(word)).toBe(quoted);
  });

  it('keeps ProtectHome off when midbot writes under a home folder', () => {
    const spec = { description: 'd', user: 'u', group: 'g', execStart: ['/usr/bin/node', '/m.mjs'] };
    expect(renderSystemdUnit({ ...spec, writablePaths: ['/var/lib/midbot'] })).toContain(
      'ProtectHome=read-only',
    );
    expect(renderSystemdUnit({ ...spec, writablePaths: ['/home/ci/out'] })).not.toContain('ProtectHome');
  });
});
