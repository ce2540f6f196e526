import { describe, expect, it } from 'vitest';
import {
  loadBotConfig,
  loadBotConfigWithFlags,
  loadConfigOutputs,
} from '../../../lib/bot/config/load-bot-config.js';
import { ConfigError } from '../../../lib/core/errors.js';

/** Keys of a tbot.yaml that midbot has no use for, refused with what to do instead. */

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

function errorOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  return expect.unreachable('expected a ConfigError');
}

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
    expect(errorOf(() => loadBotConfig(text, SOURCE))).toBe(message);
    expect(errorOf(() => loadConfigOutputs(text, SOURCE))).toBe(message);
    expect(errorOf(() => loadBotConfigWithFlags(text, SOURCE, { certificateTtl: '2h' }))).toBe(message);
  });

  it('gives the same advice in a JSON config, without a line', () => {
    const json = JSON.stringify({
      version: 'v2',
      auth_server: 'auth.example.com:443',
      onboarding: { join_method: 'token', token: 'x', ca_pins: [PIN] },
      storage: { type: 'memory' },
      outputs: [{ type: 'identity', destination: { type: 'memory' }, ssh_config: 'off' }],
    });
    expect(errorOf(() => loadBotConfig(json, SOURCE))).toMatch(
      /^\/etc\/tbot\.yaml: outputs\[0\]\.ssh_config: unknown key; midbot always writes ssh_config/,
    );
  });
});
