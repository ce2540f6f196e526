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
    ['file:///opt/machine-id/', { type: 'directory', path: '/opt/machine-id' }],
    ['file://./out', { type: 'directory', path: `${CWD}/out` }],
    ['./out', { type: 'directory', path: `${CWD}/out` }],
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

  it.each([
    ['file://', '--destination: got "file://", expected a folder after file://, e.g. file:///opt/machine-id'],
    [
      'kubernetes-secret:///bot-out',
      '--destination: got "kubernetes-secret:///bot-out", expected file:///PATH (or a folder), memory:// or aws-secrets-manager://SECRET-NAME: midbot writes no Kubernetes secret; write the output to a folder the pod mounts, or to Secrets Manager',
    ],
    [
      's3://bucket/out',
      '--destination: got "s3://bucket/out", expected file:///PATH (or a folder), memory:// or aws-secrets-manager://SECRET-NAME',
    ],
    [
      'aws-secrets-manager://has space',
      '--destination: got "has space", expected a secret name (letters, digits, /_+=.@-, at most 512) or a Secrets Manager ARN',
    ],
    ['/opt/"quoted"', '--destination: got "/opt/\\"quoted\\"", '],
  ])('refuses --destination %s, naming the flag', (uri, message) => {
    expect(() => destinationFromUri(uri, '--destination', CWD)).toThrow(message);
  });

  it('reads --storage as a folder or memory, and refuses Secrets Manager for the bot identity', () => {
    expect(storageFromUri('file:///var/lib/midbot', '--storage', CWD)).toEqual({
      type: 'directory',
      path: '/var/lib/midbot',
    });
    expect(storageFromUri('bot', '--storage', CWD)).toEqual({ type: 'directory', path: `${CWD}/bot` });
    expect(storageFromUri('memory://', '--storage', CWD)).toEqual({ type: 'memory' });
    expect(() => storageFromUri('aws-secrets-manager://x', '--storage', CWD)).toThrow(
      /^--storage: got "aws-secrets-manager:\/\/x", expected file:\/\/\/PATH \(or a folder\) or memory:\/\/: the bot keeps its own identity in a folder or in memory/,
    );
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
