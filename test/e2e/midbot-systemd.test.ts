import { spawn } from 'node:child_process';
import { once } from 'node:events';
import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execArgument, renderSystemdUnit } from '../../lib/midbot/systemd-unit.js';
import { type Cluster, startCluster } from '../bot/agent/agent-fixture.js';
import { MIDBOT, runMidbot } from '../support/cli.js';
import { runCommand } from '../support/run-command.js';

let cluster: Cluster;
let work: string;
const systemdAnalyze = ['/usr/bin/systemd-analyze', '/bin/systemd-analyze'].find((file) => existsSync(file));

/**
 * A folder for the test outside /tmp and /var/tmp: the unit gives the service a /tmp of its own, so
 * midbot refuses folders there (and the checkout itself may be in /tmp).
 */
function workRoot(): string {
  const candidates = [homedir(), '/dev/shm', '/var/lib'];
  for (const candidate of candidates) {
    if (/^\/(?:var\/)?tmp(?:\/|$)/.test(candidate)) continue;
    try {
      return mkdtempSync(join(candidate, '.midbot-systemd-test-'));
    } catch {
      // not writable here: the next one
    }
  }
  throw new Error(`no writable folder outside /tmp among ${candidates.join(', ')}`);
}

beforeAll(async () => {
  cluster = await startCluster();
  work = workRoot();
});

afterAll(async () => {
  await cluster?.dispose();
  rmSync(work, { recursive: true, force: true });
});

/** A daemon config for the test cluster, its folders in `work` (made, unless `make` is false). */
function writeConfig(
  name: string,
  token: string,
  options: { extra?: string; make?: boolean; storage?: string } = {},
): string {
  const folders = { data: join(work, `${name}-data`), out: join(work, `${name}-out`) };
  if (options.make !== false)
    for (const folder of Object.values(folders)) mkdirSync(folder, { recursive: true });
  const file = join(work, `${name}.yaml`);
  writeFileSync(
    file,
    `version: v2
auth_server: "${cluster.url}"
onboarding: {join_method: token, token: "${token}", ca_pins: ["${cluster.server.caPin}"]}
storage: ${options.storage ?? `{type: directory, path: ${folders.data}}`}
outputs:
  - type: identity
    destination: {type: directory, path: ${folders.out}}
${options.extra ?? ''}`,
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

const install = (config: string, ...flags: string[]) =>
  runMidbot(['install', 'systemd', '-c', config, '--user', 'daemon', ...flags]);

describe('midbot install systemd', () => {
  it('prints a unit whose ExecStart runs the daemon and whose ExecReload re-renders it', async () => {
    const config = writeConfig('daemon', await cluster.addBot('systemd-daemon', ['ops']));
    const printed = await install(config);
    expect(printed.stderr).toBe('');
    expect(printed.code).toBe(0);
    const unit = printed.stdout;
    expect(unitValue(unit, 'User')).toBe('daemon');
    expect(unitValue(unit, 'Group')).toBe('daemon');
    expect(unitValue(unit, 'SyslogIdentifier')).toBe('midbot');
    expect(unit).toContain(`ReadWritePaths=${join(work, 'daemon-data')}\n`);
    expect(unit).toContain(`ReadWritePaths=${join(work, 'daemon-out')}\n`);
    expect(unit).toContain('ProtectSystem=strict\n');
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
    'writes a unit that systemd-analyze verify accepts without a warning and rates well confined, odd paths included',
    async () => {
      const appOut = join(work, 'app out 100% $HOME');
      mkdirSync(appOut);
      const config = writeConfig('verify', 'a-token-never-used', {
        extra: `  - type: application\n    app_name: grafana\n    destination: {type: directory, path: "${appOut}"}\n`,
      });
      const units = join(work, 'units');
      mkdirSync(units);
      const flags = ['--name', 'midbot-verify', '--write', '--systemd-directory', units];
      const wrote = await install(config, ...flags);
      expect(wrote.code).toBe(0);
      const file = join(units, 'midbot-verify.service');
      expect(wrote.stdout).toContain(`Wrote ${file}.`);
      expect(wrote.stdout).toContain('systemctl enable --now midbot-verify');
      expect(statSync(file).mode & 0o777).toBe(0o644);
      // Specifiers escaped, the $ left alone (only Exec lines expand variables), the space quoted.
      expect(readFileSync(file, 'utf8')).toContain(`ReadWritePaths="${join(work, 'app out 100%% $HOME')}"`);
      const verified = await runCommand(systemdAnalyze as string, ['verify', file]);
      expect(verified.stderr).toBe('');
      expect(verified.code).toBe(0);
      const security = await runCommand(systemdAnalyze as string, ['security', '--offline=yes', file]);
      const exposure = /Overall exposure level for midbot-verify\.service: (\d+\.\d+)/.exec(security.stdout);
      expect(Number(exposure?.[1])).toBeLessThanOrEqual(2);

      const again = await install(config, ...flags);
      expect(again.code).toBe(1);
      expect(again.stderr).toBe(
        `ERROR: ${file}: exists already; give --force to replace it, or --name to write another unit\n`,
      );
    },
  );

  it('says before the unit what would stop it from starting, with the command that fixes each', async () => {
    const config = writeConfig('unready', 'a-token-never-used', { make: false });
    chmodSync(config, 0o600);
    const printed = await install(config);
    expect(printed.code).toBe(0);
    const notes = printed.stdout.split('\n').filter((line) => line.startsWith('# NOTE: '));
    // (A checkout or a node in /tmp adds a note of its own.)
    expect(notes).toEqual(
      expect.arrayContaining([
        `# NOTE: ${join(work, 'unready-data')} does not exist, and the service may write only in folders that do: install -d -m 0700 -o daemon -g daemon ${join(work, 'unready-data')}`,
        `# NOTE: ${join(work, 'unready-out')} does not exist, and the service may write only in folders that do: midbot init --destination-dir ${join(work, 'unready-out')} --bot-user daemon --reader-user READER`,
        `# NOTE: daemon cannot read ${config} (mode 0600, another owner): chown daemon ${config}`,
      ]),
    );
  });

  it('puts AWS_REGION in the unit for Secrets Manager outputs, or says to', async () => {
    const config = writeConfig('secrets', 'a-token-never-used', {
      extra: '  - type: identity\n    destination: {type: aws_secrets_manager, name: machine-id/ci}\n',
    });
    const withRegion = await runMidbot(['install', 'systemd', '-c', config, '--user', 'daemon'], {
      env: { AWS_REGION: 'eu-west-1' },
    });
    expect(unitValue(withRegion.stdout, 'Environment')).toBe('AWS_REGION=eu-west-1');
    const without = await runMidbot(['install', 'systemd', '-c', config, '--user', 'daemon'], {
      env: { AWS_REGION: '', AWS_DEFAULT_REGION: '' },
    });
    expect(without.stdout).toContain(
      '# NOTE: Secrets Manager outputs need a region: set destination.region, or run this with AWS_REGION set to put it in the unit.',
    );
  });

  it.each([
    [['--name', 'bad name'], '--name: got "bad name", expected a unit name without .service'],
    [['--group', 'no-such-group-here'], '--group'],
    [
      ['--write', '--systemd-directory', '/nonexistent/systemd'],
      '--systemd-directory: /nonexistent/systemd does not exist; is this a systemd host?',
    ],
  ])('refuses %j, naming the flag', async (flags, message) => {
    const result = await install(writeConfig('refused', 'a-token-never-used'), ...flags);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`ERROR: ${message}`);
  });

  it('says to give the service a user of its own rather than nobody or root', async () => {
    const config = writeConfig('shared-user', 'a-token-never-used');
    const nobody = await runMidbot(['install', 'systemd', '-c', config, '--user', 'nobody']);
    expect(nobody.stdout).toContain('# NOTE: nobody is shared by unrelated services');
    const root = await runMidbot(['install', 'systemd', '-c', config, '--user', 'root']);
    expect(root.stdout).toContain('# NOTE: The service runs as root: give it a user of its own');
  });

  it.each([
    [['--usr', 'daemon'], "ERROR: unknown option '--usr'; did you mean --user?"],
    [[], 'ERROR: --user is required: the user the service runs as, e.g. --user=midbot'],
    [
      ['--user', 'daemon', '--force'],
      'ERROR: --force replaces a unit that --write would write; give --write too',
    ],
  ])('refuses %j with what to type', async (flags, message) => {
    const result = await runMidbot([
      'install',
      'systemd',
      '-c',
      writeConfig('flags', 'a-token-never-used'),
      ...flags,
    ]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(message);
  });

  it('refuses a user that does not exist', async () => {
    const config = writeConfig('no-user', 'a-token-never-used');
    const result = await runMidbot(['install', 'systemd', '-c', config, '--user', 'no-such-user-here']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^ERROR: --user: .*no-such-user-here/);
  });

  it('writes a oneshot service and a timer that starts it every renewal_interval, which systemd-analyze accepts', async () => {
    const config = writeConfig('timed', await cluster.addBot('systemd-timed', ['ops']), {
      extra: 'oneshot: true\nrenewal_interval: 15m\n',
    });
    const units = join(work, 'timed-units');
    mkdirSync(units);
    const wrote = await install(config, '--name', 'midbot-timed', '--write', '--systemd-directory', units);
    expect(wrote.code).toBe(0);
    expect(wrote.stdout).toContain('systemctl enable --now midbot-timed.timer');
    const service = readFileSync(join(units, 'midbot-timed.service'), 'utf8');
    const timer = readFileSync(join(units, 'midbot-timed.timer'), 'utf8');
    expect(unitValue(service, 'Type')).toBe('oneshot');
    expect(service).not.toMatch(/^(Restart|ExecReload)=/m);
    expect(unitValue(timer, 'OnUnitActiveSec')).toBe('900s');
    expect(unitValue(timer, 'Unit')).toBe('midbot-timed.service');
    if (systemdAnalyze !== undefined) {
      const verified = await runCommand(systemdAnalyze, ['verify', join(units, 'midbot-timed.timer')]);
      expect(verified.stderr).toBe('');
      expect(verified.code).toBe(0);
    }
    // One start of the service, as the timer makes it: one run, then exit 0.
    const [program, ...args] = unitValue(service, 'ExecStart').split(' ') as [string, ...string[]];
    const run = await runCommand(program, args, { timeoutMs: 30_000 });
    expect(run.code).toBe(0);
    expect(readFileSync(join(work, 'timed-out', 'tlscert'), 'utf8')).toContain('BEGIN CERTIFICATE');
    // Printed, both files come with their names.
    const printed = await install(config, '--name', 'midbot-timed');
    expect(printed.stdout).toMatch(
      /^# midbot-timed\.service\n\[Unit\][\s\S]*\n# midbot-timed\.timer\n\[Unit\]/m,
    );
  });

  it.each([
    [
      { extra: 'oneshot: true\n', storage: '{type: memory}' },
      /^ERROR: \S+\.yaml: oneshot with storage memory joins on every run, and a token joins once/,
    ],
    [
      { extra: '  - type: identity\n    destination: {type: directory, path: /tmp/machine-id}\n' },
      /^ERROR: \/tmp\/machine-id: PrivateTmp gives the service its own \/tmp/,
    ],
    [
      { extra: '  - type: identity\n    destination: {type: directory, path: /var}\n' },
      /^ERROR: \S+\.yaml: the service would be given all of \/var to write; give midbot a folder of its own, e\.g\. \/var\/lib\/midbot/,
    ],
  ])('refuses a config it cannot run as a confined service (%#)', async (options, message) => {
    const result = await install(writeConfig('unfit', 'a-token-never-used', options));
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
  });

  it('does not write through a symlink at the unit, dangling or not, even with --force', async () => {
    const config = writeConfig('linked', 'a-token-never-used');
    const units = join(work, 'linked-units');
    mkdirSync(units);
    symlinkSync(join(work, 'not-there-yet'), join(units, 'midbot.service'));
    const result = await install(config, '--write', '--force', '--systemd-directory', units);
    expect(result.stderr).toContain('is a symlink; remove it first');
    expect(existsSync(join(work, 'not-there-yet'))).toBe(false);
  });
});

describe('systemd unit text', () => {
  it.each([
    ['/opt/machine-id', '/opt/machine-id'],
    ['/opt/machine id', '"/opt/machine id"'],
    ['/opt/100%', '/opt/100%%'],
    ['/opt/$HOME', '/opt/$$HOME'],
  ])('writes the argument %s as %s', (word, quoted) => {
    expect(execArgument(word)).toBe(quoted);
  });

  it('drops every capability unless the service runs as root', () => {
    const spec = {
      name: 'm',
      description: 'd',
      user: 'u',
      group: 'g',
      execStart: ['/usr/bin/node', '/m.mjs'],
      writablePaths: ['/var/lib/midbot'],
      environment: [],
      oneshot: false,
    };
    expect(renderSystemdUnit({ ...spec, root: false })).toContain('\nCapabilityBoundingSet=\n');
    expect(renderSystemdUnit({ ...spec, root: true })).not.toContain('CapabilityBoundingSet');
  });
});
