import { describe, expect, it } from 'vitest';
import { botConfigYaml } from '../../../lib/bot/config/config-yaml.js';
import { destinationFromUri, storageFromUri } from '../../../lib/bot/config/destination-uri.js';
import { configFromFlags, loadBotConfig } from '../../../lib/bot/config/load-bot-config.js';
import { modeOutput } from '../../../lib/bot/config/start-modes.js';

const PIN = `sha256:${'ab'.repeat(32)}`;
const CWD = '/home/ci/work';

describe('destination URIs (--destination, --storage)', () => {
  it.each([
    ['file:///opt/machine-id', { type: 'directory', path: '/opt/machine-id' }],
    ['FILE:///opt/machine-id/', { type: 'directory', path: '/opt/machine-id' }],
    ['file:///opt/my%20dir', { type: 'directory', path: '/opt/my dir' }],
    ['./out', { type: 'directory', path: `${CWD}/out` }],
    ['./memory:', { type: 'directory', path: `${CWD}/memory:` }],
    ['/opt/a/../b', { type: 'directory', path: '/opt/b' }],
    ['memory://', { type: 'memory' }],
    ['aws-secrets-manager://machine-id/grafana', { type: 'aws_secrets_manager', name: 'machine-id/grafana' }],
    [
      'aws-secrets-manager://arn:aws:secretsmanager:eu-west-1:123456789012:secret:machine-id/ci-AbCdEf',
      {
        type: 'aws_secrets_manager',
        name: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:machine-id/ci-AbCdEf',
      },
    ],
  ])('reads --destination %s', (uri, destination) => {
    expect(destinationFromUri(uri, '--destination', CWD)).toEqual(destination);
  });

  const ACCEPTED =
    'expected file:///PATH or a folder (/opt/machine-id, ./out), memory:// or aws-secrets-manager://SECRET-NAME';
  it.each([
    ['', `--destination: got "", ${ACCEPTED}`],
    ['file://', '--destination: got "file://", expected file:/// and the absolute path (three slashes'],
    ['file://./out', '--destination: got "file://./out", expected file:/// and the absolute path'],
    ['file://host/opt/x', '--destination: got "file://host/opt/x", expected file:/// and the absolute path'],
    ['file:/opt/x', '--destination: got "file:/opt/x", expected file:/// and the absolute path'],
    [
      'memory:',
      `--destination: got "memory:", ${ACCEPTED} (a folder whose name holds a colon: write ./memory:)`,
    ],
    ['s3://bucket/out', `--destination: got "s3://bucket/out", ${ACCEPTED}`],
    ['~/out', `--destination: got "~/out", ${ACCEPTED}: the shell leaves ~ as it is after =`],
    [
      'file:///opt/100%',
      '--destination: got "file:///opt/100%", expected a valid URI: a % must start an escape',
    ],
    [
      'kubernetes-secret:///bot-out',
      `--destination: got "kubernetes-secret:///bot-out", ${ACCEPTED}: midbot writes no Kubernetes secret; write the output to a folder (one a pod mounts, say) or to Secrets Manager`,
    ],
    [
      'aws-secrets-manager://has space',
      '--destination: got "has space", expected a secret name (letters, digits, /_+=.@-, at most 512) or a Secrets Manager ARN',
    ],
    ['/opt/"quoted"', '--destination: got "/opt/\\"quoted\\"", '],
  ])('refuses --destination %j, naming the flag', (uri, message) => {
    expect(() => destinationFromUri(uri, '--destination', CWD)).toThrow(message);
  });

  it('reads --storage as a folder or memory, and refuses Secrets Manager and Kubernetes secrets for the bot identity', () => {
    expect(storageFromUri('file:///var/lib/midbot', '--storage', CWD)).toEqual({
      type: 'directory',
      path: '/var/lib/midbot',
    });
    expect(storageFromUri('bot', '--storage', CWD)).toEqual({ type: 'directory', path: `${CWD}/bot` });
    expect(storageFromUri('memory://', '--storage', CWD)).toEqual({ type: 'memory' });
    expect(() => storageFromUri('aws-secrets-manager://x', '--storage', CWD)).toThrow(
      '--storage: got "aws-secrets-manager://x", expected file:///PATH or a folder (/opt/machine-id, ./out) or memory://: the bot keeps its own identity in a folder or in memory, never in Secrets Manager',
    );
    expect(() => storageFromUri('kubernetes-secret:///bot', '--storage', CWD)).toThrow(
      'midbot writes no Kubernetes secret; keep it in a folder (on a volume, in a pod) or in memory',
    );
  });

  it('refuses an empty --data-dir or --destination-dir, which would be the working directory', () => {
    const flags = { authServer: 'auth.example.com:443', token: 't', caPins: [PIN] };
    expect(() => configFromFlags({ ...flags, dataDir: '' }, { cwd: CWD })).toThrow(
      '--data-dir: got "", expected a folder, e.g. --data-dir=/opt/machine-id',
    );
    expect(() => configFromFlags({ ...flags, destinationDir: ' ' }, { cwd: CWD })).toThrow(
      '--destination-dir: got "", expected a folder',
    );
  });

  it('names --storage, not a config key, when its folder clashes with an output', () => {
    expect(() =>
      configFromFlags(
        {
          authServer: 'auth.example.com:443',
          token: 't',
          caPins: [PIN],
          storage: 'out/storage',
          output: modeOutput('identity', { destination: 'out' }, CWD),
        },
        { cwd: CWD },
      ),
    ).toThrow(/^--storage: got "\/home\/ci\/work\/out\/storage", /);
  });
});

describe('mode outputs', () => {
  it('makes the output of each mode from its flags', () => {
    expect(modeOutput('identity', { destination: 'out' }, CWD)).toEqual({
      type: 'identity',
      destination: { type: 'directory', path: `${CWD}/out` },
    });
    expect(
      modeOutput('app', { destination: '/o', app: 'grafana', specificTlsExtensions: true }, CWD),
    ).toEqual({
      type: 'application',
      destination: { type: 'directory', path: '/o' },
      app_name: 'grafana',
      specific_tls_naming: true,
    });
    expect(
      modeOutput(
        'kubernetes',
        { destination: '/k', kubernetesCluster: 'prod', disableExecPlugin: true },
        CWD,
      ),
    ).toEqual({
      type: 'kubernetes',
      destination: { type: 'directory', path: '/k' },
      kubernetes_cluster: 'prod',
      disable_exec_plugin: true,
    });
  });

  it.each([
    [
      () => modeOutput('app', { destination: '/o' }, CWD),
      '--app is required: give the app name, e.g. --app=grafana',
    ],
    [
      () => modeOutput('app', { destination: '/o', app: 'graf ana' }, CWD),
      '--app: got "graf ana", expected the app name (letters, digits, . _ @ -)',
    ],
    [
      () => modeOutput('kubernetes', { destination: '/k' }, CWD),
      '--kubernetes-cluster is required: give the Kubernetes cluster name, e.g. --kubernetes-cluster=prod-cluster',
    ],
  ])('refuses a missing or bad name by its flag (%#)', (make, message) => {
    expect(make).toThrow(message);
  });

  it('adds the mode output after --destination-dir and names its folder --destination in a cross-key problem', () => {
    const flags = {
      authServer: 'auth.example.com:443',
      token: 'a-token',
      caPins: [PIN],
      destinationDir: '/opt/out',
    };
    const config = configFromFlags({
      ...flags,
      output: modeOutput('identity', { destination: '/opt/id' }, CWD),
    });
    expect(config.outputs.map((output) => output.destination)).toEqual([
      { type: 'directory', path: '/opt/out' },
      { type: 'directory', path: '/opt/id' },
    ]);
    expect(() =>
      configFromFlags({ ...flags, output: modeOutput('identity', { destination: '/opt/out' }, CWD) }),
    ).toThrow('--destination: got "/opt/out", the same folder as outputs[0]');
    expect(() =>
      configFromFlags({ ...flags, output: modeOutput('identity', { destination: '/opt/out/inner' }, CWD) }),
    ).toThrow(/^--destination: got "\/opt\/out\/inner", .*inside --destination-dir/);
  });

  it('takes --storage as --data-dir, and refuses both together', () => {
    const flags = { authServer: 'auth.example.com:443', caPins: [PIN] };
    expect(configFromFlags({ ...flags, storage: 'file:///var/lib/midbot' }).storage).toEqual({
      type: 'directory',
      path: '/var/lib/midbot',
    });
    expect(() => configFromFlags({ ...flags, storage: 'memory://' })).toThrow(
      /^--token is required without --data-dir/,
    );
    expect(() => configFromFlags({ ...flags, storage: '/a', dataDir: '/b' }, { cwd: CWD })).toThrow(
      'give --data-dir or --storage, not both (they set the same thing: --data-dir /b is --storage file:///b)',
    );
  });
});

describe('the v2 YAML of a config', () => {
  it('reads back as the same config, with the switches that are off left out', () => {
    const config = configFromFlags({
      authServer: 'auth.example.com:443',
      token: '/etc/midbot/token',
      caPins: [PIN],
      dataDir: '/var/lib/midbot',
      certificateTtl: '2h',
      renewalInterval: '30m',
      diagAddr: '127.0.0.1:3001',
      output: modeOutput(
        'app',
        { destination: 'aws-secrets-manager://machine-id/grafana', app: 'grafana' },
        CWD,
      ),
    });
    const yaml = botConfigYaml(config);
    expect(yaml).not.toMatch(/specific_tls_naming|oneshot|public_tls|debug/);
    expect(yaml).toContain('certificate_ttl: 2h\nrenewal_interval: 30m\n');
    expect(loadBotConfig(yaml, 'midbot.yaml').config).toEqual(config);
  });
});
