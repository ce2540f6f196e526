import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadBotConfig } from '../../../lib/bot/config/load-bot-config.js';
import { loadBotConfigLazily } from '../../../lib/bot/config/load-bot-config-lazily.js';
import { ConfigError } from '../../../lib/core/errors.js';

const PIN = `sha256:${'1'.repeat(64)}`;
const TOKEN = 'tok-SECRET-4f9a1c';
const SOURCE = 'MID_BOT_CONFIG';

/** A v2 config as the MachineIdBot construct writes it, and the same config in YAML. */
const v2 = {
  version: 'v2',
  auth_server: 'https://abc123.execute-api.eu-west-1.amazonaws.com',
  onboarding: { join_method: 'iam', token: TOKEN, public_tls: true },
  storage: { type: 'memory' },
  oneshot: true,
  certificate_ttl: '1h',
  renewal_interval: '20m',
  outputs: [
    {
      type: 'kubernetes',
      kubernetes_cluster: 'prod',
      destination: {
        type: 'aws_secrets_manager',
        name: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:machine-id/kube-AbCdEf',
      },
    },
  ],
};
const v2Yaml = `version: v2
auth_server: https://abc123.execute-api.eu-west-1.amazonaws.com
onboarding: {join_method: iam, token: "${TOKEN}", public_tls: true}
storage: {type: memory}
oneshot: true
certificate_ttl: 1h
renewal_interval: 20m
outputs:
  - type: kubernetes
    kubernetes_cluster: prod
    destination:
      type: aws_secrets_manager
      name: arn:aws:secretsmanager:eu-west-1:123456789012:secret:machine-id/kube-AbCdEf
`;
const v1 = {
  auth_server: 'teleport.example.com:443',
  onboarding: { join_method: 'token', token: TOKEN, ca_pins: [PIN] },
  storage: { directory: '/var/lib/teleport/bot' },
  destinations: [{ directory: '/opt/machine-id', kubernetes_cluster: 'example-k8s-cluster' }],
};

const loaders = [
  ['loadBotConfig', async (text: string) => loadBotConfig(text, SOURCE)],
  ['loadBotConfigLazily', (text: string) => loadBotConfigLazily(text, SOURCE)],
] as const;

async function configError(action: () => Promise<unknown>): Promise<ConfigError> {
  const error = await action().then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as ConfigError).code).toBe('invalid_config');
  expect((error as Error).message).not.toContain(TOKEN);
  return error as ConfigError;
}

describe.each(loaders)('%s on a config written as JSON', (_name, load) => {
  it('gives the same config as the same file in YAML', async () => {
    const fromJson = await load(JSON.stringify(v2));
    expect(fromJson).toEqual(await load(v2Yaml));
    expect(fromJson.config.outputs[0]).toMatchObject({ type: 'kubernetes', kubernetes_cluster: 'prod' });
    expect(fromJson.warnings).toEqual([]);
  });

  it('reads indented JSON too', async () => {
    expect(await load(`\n${JSON.stringify(v2, null, 2)}\n`)).toEqual(await load(v2Yaml));
  });

  it('refuses a key repeated in one object, naming where, as it refuses one in YAML', async () => {
    const text = JSON.stringify(v2).replace('"token":', `"token":"${TOKEN}","token":`);
    const error = await configError(() => load(text));
    expect(error.message).toBe(
      `${SOURCE}: onboarding.token: duplicate key "token"; each key may appear once in a mapping; remove or merge the duplicate`,
    );
    const inList = JSON.stringify(v2).replace('"kubernetes_cluster":"prod"', '"roles":[],"roles":["a"]');
    expect((await configError(() => load(inList))).message).toMatch(
      /^MID_BOT_CONFIG: outputs\[0\]\.roles: duplicate key "roles"/,
    );
    const yamlError = await configError(() =>
      load(v2Yaml.replace('storage: {type: memory}', 'storage: {type: memory}\nstorage: {type: memory}')),
    );
    expect(yamlError.message).toMatch(/duplicate key "storage"; each key may appear once in a mapping/);
  });

  it('checks the fields as the YAML loader does: path, value and fix, never the token', async () => {
    const text = JSON.stringify({ ...v2, certificate_ttl: '5x', onboarding: { ...v2.onboarding, extra: 1 } });
    const error = await configError(() => load(text));
    expect(error.message).toMatch(/^MID_BOT_CONFIG: /);
    expect(error.message).toContain('certificate_ttl');
    expect(error.message).toContain('onboarding');
  });

  it('converts the v1 shape written as JSON, with the warning', async () => {
    const { config, warnings } = await load(JSON.stringify(v1));
    expect(config.outputs).toEqual([
      {
        type: 'kubernetes',
        destination: { type: 'directory', path: '/opt/machine-id' },
        kubernetes_cluster: 'example-k8s-cluster',
      },
    ]);
    expect(warnings[0]).toContain('- type: kubernetes');
  });

  it('leaves text that is not JSON to the YAML reader: flow mappings, and broken JSON with its line', async () => {
    const flow = `{version: v2, auth_server: "${v2.auth_server}", onboarding: {join_method: iam, token: "${TOKEN}", public_tls: true}, storage: {type: memory}}`;
    expect((await load(flow)).config.onboarding.token).toBe(TOKEN);
    const broken = `${JSON.stringify(v2, null, 2).slice(0, -2)}\n`;
    expect((await configError(() => load(broken))).message).toMatch(/^MID_BOT_CONFIG:\d+:\d+: /);
  });

  it('refuses JSON larger than a config file can be', async () => {
    const text = JSON.stringify({ ...v2, padding: 'x'.repeat(300 * 1024) });
    expect((await configError(() => load(text))).message).toMatch(/larger than 256 KiB/);
  });
});

describe('loadBotConfigLazily', () => {
  afterEach(() => {
    vi.doUnmock('yaml');
    vi.resetModules();
  });

  it('reads a JSON config, v2 or v1, without loading the YAML parser', async () => {
    vi.resetModules();
    const loaded = vi.fn();
    vi.doMock('yaml', async (importOriginal) => {
      loaded();
      return importOriginal();
    });
    const { loadBotConfigLazily: load } = await import('../../../lib/bot/config/load-bot-config-lazily.js');
    expect((await load(JSON.stringify(v2), SOURCE)).config.storage).toEqual({ type: 'memory' });
    expect((await load(JSON.stringify(v1), SOURCE)).warnings).toHaveLength(1);
    expect(loaded).not.toHaveBeenCalled();
    expect((await load(v2Yaml, SOURCE)).config.storage).toEqual({ type: 'memory' });
    expect(loaded).toHaveBeenCalledTimes(1);
  });

  it('gives YAML, which loads the parser, the same result and errors as loadBotConfig', async () => {
    expect(await loadBotConfigLazily(v2Yaml, SOURCE)).toEqual(loadBotConfig(v2Yaml, SOURCE));
    const bad = v2Yaml.replace('certificate_ttl: 1h', 'certificate_ttl: soon');
    const lazy = await configError(() => loadBotConfigLazily(bad, SOURCE));
    expect(lazy.message).toBe((await configError(async () => loadBotConfig(bad, SOURCE))).message);
  });
});
