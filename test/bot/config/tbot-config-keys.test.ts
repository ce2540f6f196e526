import { describe, expect, it } from 'vitest';
import { botConfigYaml } from '../../../lib/bot/config/config-yaml.js';
import {
  loadBotConfig,
  loadBotConfigWithFlags,
  loadConfigOutputs,
} from '../../../lib/bot/config/load-bot-config.js';
import { configErrorOf } from '../../support/config-error-of.js';

/** Keys of a tbot.yaml (a current one: Teleport 14 and later) that midbot spells or treats differently. */

const SOURCE = '/etc/tbot.yaml';
const PIN = `sha256:${'1'.repeat(64)}`;

/** A v2 config of 9 lines; `extra` starts at line 10. */
const config = (extra: string) => `version: v2
auth_server: "auth.example.com:443"
onboarding:
  join_method: token
  token: "0123456789abcdef0123456789abcdef"
  ca_pins: ["${PIN}"]
storage:
  type: directory
  path: /var/lib/midbot
${extra}`;

describe('a tbot key midbot has no use for is refused with what to do instead', () => {
  it.each([
    [
      'insecure: true',
      'insecure: true\n',
      `${SOURCE}: insecure (line 10): unknown key; midbot always authenticates the auth service and has no insecure mode: list the pin printed by \`midctl bots add\` or \`midctl status\` under onboarding.ca_pins (or set onboarding.public_tls: true for an auth service with a publicly trusted certificate, as behind API Gateway), and remove the key`,
    ],
    [
      'fips: true',
      'fips: true\n',
      `${SOURCE}: fips (line 10): unknown key; midbot has no FIPS mode (it uses the OpenSSL built into Node.js, and nothing in midbot limits it to FIPS-validated algorithms); remove the key`,
    ],
    [
      'services (an application tunnel)',
      'services:\n  - type: application-tunnel\n    app_name: grafana\n    listen: tcp://127.0.0.1:1234\n',
      `${SOURCE}: services (line 10): unknown key; midbot has no services: for an application tunnel (type: application-tunnel), add an application output and run \`midbot proxy app\` on its folder beside \`midbot start\`; write certificates under outputs`,
    ],
    [
      'ssh_config: off on an identity output',
      'outputs:\n  - type: identity\n    destination: {type: directory, path: /opt/machine-id}\n    ssh_config: off\n',
      `${SOURCE}: outputs[0].ssh_config (line 13): unknown key; midbot always writes ssh_config with an identity output (nothing to switch off); remove the key`,
    ],
    [
      'ssh_config: on, on the second output',
      'outputs:\n  - type: application\n    app_name: grafana\n    destination: {type: memory}\n  - type: identity\n    ssh_config: on\n    destination: {type: memory}\n',
      `${SOURCE}: outputs[1].ssh_config (line 15): unknown key; midbot always writes ssh_config with an identity output (nothing to switch off); remove the key`,
    ],
  ])('%s', (_name, extra, message) => {
    const text = config(extra);
    expect(configErrorOf(() => loadBotConfig(text, SOURCE))).toBe(message);
    expect(configErrorOf(() => loadConfigOutputs(text, SOURCE))).toBe(message);
    expect(configErrorOf(() => loadBotConfigWithFlags(text, SOURCE, { certificateTtl: '2h' }))).toBe(message);
  });

  it('gives the same advice in a JSON config, without a line', () => {
    const json = JSON.stringify({
      version: 'v2',
      auth_server: 'auth.example.com:443',
      onboarding: { join_method: 'token', token: 'x', ca_pins: [PIN] },
      storage: { type: 'memory' },
      outputs: [{ type: 'identity', destination: { type: 'memory' }, ssh_config: 'off' }],
    });
    expect(configErrorOf(() => loadBotConfig(json, SOURCE))).toMatch(
      /^\/etc\/tbot\.yaml: outputs\[0\]\.ssh_config: unknown key; midbot always writes ssh_config/,
    );
  });
});

describe('credential_ttl, the name tbot v2 gives certificate_ttl', () => {
  it('is read as certificate_ttl', () => {
    const { config: read } = loadBotConfig(config('credential_ttl: 2h\n'), SOURCE);
    expect(read.certificate_ttl).toBe(7_200_000);
    expect(read).toEqual(loadBotConfig(config('certificate_ttl: 2h\n'), SOURCE).config);
    expect(read).not.toHaveProperty('credential_ttl');
  });

  it('is printed back by midbot configure as certificate_ttl, which reads as the same config', () => {
    const { config: read } = loadBotConfig(config('credential_ttl: 2h\n'), SOURCE);
    const yaml = botConfigYaml(read);
    expect(yaml).toContain('certificate_ttl: 2h\n');
    expect(yaml).not.toContain('credential_ttl');
    expect(loadBotConfig(yaml, SOURCE).config).toEqual(read);
  });

  it('is refused beside certificate_ttl, naming both', () => {
    const text = config('certificate_ttl: 1h\ncredential_ttl: 2h\n');
    const message = `${SOURCE}: credential_ttl (line 11): got "2h", expected only one of certificate_ttl and credential_ttl: they are the same setting (tbot v2 calls it credential_ttl, v1 certificate_ttl); keep one and remove the other`;
    expect(configErrorOf(() => loadBotConfig(text, SOURCE))).toBe(message);
    expect(configErrorOf(() => loadConfigOutputs(text, SOURCE))).toBe(message);
    expect(configErrorOf(() => loadBotConfigWithFlags(text, SOURCE, { certificateTtl: '3h' }))).toBe(message);
  });

  it('gets the checks of certificate_ttl, under its own name', () => {
    expect(configErrorOf(() => loadBotConfig(config('credential_ttl: soon\n'), SOURCE))).toBe(
      `${SOURCE}: credential_ttl (line 10): got "soon", expected a duration; write it like 1h, 20m, 90s or 1h30m`,
    );
    expect(configErrorOf(() => loadBotConfig(config('credential_ttl: 10m\n'), SOURCE))).toBe(
      `${SOURCE}: credential_ttl (line 10): got "10m", expected more than renewal_interval (20m, the default when not set), or certificates expire before they are renewed; raise credential_ttl or lower renewal_interval`,
    );
    expect(
      configErrorOf(() =>
        loadBotConfigWithFlags(config('credential_ttl: 10m\n'), SOURCE, { renewalInterval: '30m' }),
      ),
    ).toBe(
      '--renewal-interval: got "30m", expected less than credential_ttl (10m), or certificates expire before they are renewed; lower --renewal-interval or raise credential_ttl',
    );
  });

  it('is replaced by --certificate-ttl, as certificate_ttl is', () => {
    const text = config('credential_ttl: 30m\n');
    expect(loadBotConfigWithFlags(text, SOURCE, {}).config.certificate_ttl).toBe(1_800_000);
    expect(loadBotConfigWithFlags(text, SOURCE, { certificateTtl: '3h' }).config.certificate_ttl).toBe(
      10_800_000,
    );
  });
});
