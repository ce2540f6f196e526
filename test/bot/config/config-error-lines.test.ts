import { describe, expect, it } from 'vitest';
import {
  loadBotConfig,
  loadBotConfigWithFlags,
  loadConfigOutputs,
} from '../../../lib/bot/config/load-bot-config.js';
import { loadBotConfigLazily } from '../../../lib/bot/config/load-bot-config-lazily.js';
import { configErrorOf } from '../../support/config-error-of.js';

const SOURCE = '/etc/midbot.yaml';
const PIN = `sha256:${'ab'.repeat(32)}`;

/** Line numbers on the left are the ones the errors must name. */
const lines = (...numbered: string[]) => `${numbered.map((line) => line.replace(/^\d+ /, '')).join('\n')}\n`;

const CONFIG = lines(
  '1 version: v2',
  '2 auth_server: "auth.example.com:443"',
  '3 onboarding:',
  '4   join_method: token',
  '5   token: "0123456789abcdef0123456789abcdef"',
  `6   ca_pins: ["${PIN}"]`,
  '7 storage:',
  '8   type: directory',
  '9   path: /var/lib/midbot',
  '10 outputs:',
  '11   - type: identity',
  '12     destination:',
  '13       type: directory',
  '14       path: /opt/machine-id/identity',
  '15   - type: application',
  '16     app_name: grafana',
  '17     destination:',
  '18       type: directory',
  '19       path: /opt/machine-id/grafana',
);

describe('config errors name the line of the YAML value they are about', () => {
  it('gives the line of a misspelt key deep in an output and the key it most likely meant, not that key as missing', () => {
    const text = CONFIG.replace('      path: /opt/machine-id/grafana', '      paht: /opt/machine-id/grafana');
    expect(configErrorOf(() => loadBotConfig(text, SOURCE))).toBe(
      `${SOURCE}: outputs[1].destination (line 19): unknown key "paht"; did you mean "path"?`,
    );
  });

  it('gives the line of a misspelt key whose value is a block below it, not the line of that block', () => {
    const text = CONFIG.replace('onboarding:', 'onbording:');
    expect(configErrorOf(() => loadBotConfig(text, SOURCE))).toMatch(
      /^\/etc\/midbot\.yaml: \(top level\) \(line 3\): unknown key "onbording"; did you mean "onboarding"\?/,
    );
    const nested = CONFIG.replace(
      '    destination:\n      type: directory\n      path: /opt/machine-id/grafana',
      '    destinaton:\n      type: directory\n      path: /opt/machine-id/grafana',
    );
    expect(configErrorOf(() => loadBotConfig(nested, SOURCE))).toMatch(
      /outputs\[1\] \(line 17\): unknown key "destinaton"/,
    );
  });

  it('gives the line of a wrong value, in every way a file is read', async () => {
    const text = CONFIG.replace('  - type: application', '  - type: app');
    const expected = /^\/etc\/midbot\.yaml: outputs\[1\]\.type \(line 15\): got "app", expected one of /;
    expect(configErrorOf(() => loadBotConfig(text, SOURCE))).toMatch(expected);
    expect(configErrorOf(() => loadConfigOutputs(text, SOURCE))).toMatch(expected);
    expect(configErrorOf(() => loadBotConfigWithFlags(text, SOURCE, {}))).toMatch(expected);
    await expect(loadBotConfigLazily(text, SOURCE)).rejects.toThrow(expected);
  });

  it('gives the line of a tbot key that midbot spells differently', () => {
    expect(configErrorOf(() => loadBotConfig(`${CONFIG}proxy_server: x:443\n`, SOURCE))).toMatch(
      /^\/etc\/midbot\.yaml: proxy_server \(line 20\): unknown key; midbot talks to the auth service directly; use auth_server$/,
    );
  });

  it('gives no line for a missing key: the nearest line above would be the wrong one', () => {
    const text = CONFIG.replace('      path: /opt/machine-id/grafana\n', '');
    expect(configErrorOf(() => loadBotConfig(text, SOURCE))).toMatch(
      /^\/etc\/midbot\.yaml: outputs\[1\]\.destination\.path: got nothing, /,
    );
  });

  it('gives the file line for a value from the file and none for a value from a flag', () => {
    const fromFile = configErrorOf(() =>
      loadBotConfigWithFlags(CONFIG, SOURCE, { dataDir: '/opt/machine-id/identity' }),
    );
    expect(fromFile).toMatch(/^\/etc\/midbot\.yaml: outputs\[0\]\.destination\.path \(line 14\): got /);
    const fromFlag = configErrorOf(() => loadBotConfigWithFlags(CONFIG, SOURCE, { renewalInterval: '2h' }));
    expect(fromFlag).toMatch(/^--renewal-interval: got "2h"/);
  });

  it('gives the line in the v1 shape too', () => {
    const v1 = lines(
      '1 auth_server: "auth.example.com:443"',
      '2 onboarding:',
      '3   join_method: token',
      '4   token: "0123456789abcdef0123456789abcdef"',
      `5   ca_pins: ["${PIN}"]`,
      '6 storage:',
      '7   directory: /var/lib/midbot',
      '8 destinations:',
      '9   - directory: /opt/machine-id',
      '10     roles: 7',
    );
    expect(configErrorOf(() => loadBotConfig(v1, SOURCE))).toMatch(
      /^\/etc\/midbot\.yaml: destinations\[0\]\.roles \(line 10\): got 7, /,
    );
  });

  it('gives no line for JSON, whose errors name the key path alone', () => {
    const json = JSON.stringify({
      ...JSON.parse('{}'),
      version: 'v2',
      auth_server: 'auth.example.com:443',
      oneshot: 'yes',
    });
    expect(configErrorOf(() => loadBotConfig(json, SOURCE))).not.toContain('(line');
  });
});
