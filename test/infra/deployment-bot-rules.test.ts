import { describe, expect, it } from 'vitest';
import { parseDeployment } from '../../lib/infra/deployment.js';
import { deploymentRefusal } from './deployment-refusal.js';

// The bot rules the MachineIdBot construct enforces are checked while the file is parsed, so that a
// mistake is told in the file's words and at its line, not in CDK terms (renewalInterval,
// Duration.minutes(20)) at the stack's construct path.

const FILE = `cluster_name: prod.example.com
bots:
  - name: ci
    roles: [access]
    renewal_interval: 20m
    outputs:
      - name: ssh
        type: identity
      - name: grafana
        type: application
        app_name: grafana
`;

describe('deployment file: bot rules', () => {
  it('accepts the file the replacements below start from', () => {
    expect(parseDeployment(FILE, 'deploy/test.yaml').bots).toHaveLength(1);
  });

  it('refuses a renewal interval under 10 minutes at its key and line, in durations as the file writes them', () => {
    const message = deploymentRefusal(FILE.replace('renewal_interval: 20m', 'renewal_interval: 5m'));
    expect(message).toContain(
      'deploy/test.yaml: bots[0].renewal_interval (line 5): got "5m", renewal_interval is 5m; use at least 10 minutes',
    );
    expect(message).not.toMatch(/renewalInterval|Duration\./);
  });

  it('suggests a fix written as the file writes durations', () => {
    expect(deploymentRefusal(FILE.replace('renewal_interval: 20m', 'renewal_interval: 10m30s'))).toBe(
      'deploy/test.yaml: bots[0].renewal_interval (line 5): got "10m30s", renewal_interval is 10m30s; EventBridge Scheduler runs at whole minutes, so use e.g. 20m',
    );
    expect(
      deploymentRefusal(
        FILE.replace('renewal_interval: 20m', 'renewal_interval: 20m\n    flexible_time_window: 30s'),
      ),
    ).toContain(
      'bots[0].flexible_time_window (line 6): got "30s", flexible_time_window is 30s; use whole minutes from 0 (off) to 1440, e.g. 5m',
    );
  });

  it('points a TTL too short for the schedule at the key the file sets, defaults named too', () => {
    expect(deploymentRefusal(FILE.replace('renewal_interval: 20m', 'certificate_ttl: 25m'))).toBe(
      'deploy/test.yaml: bots[0].certificate_ttl (line 5): got "25m", renewal_interval (20m) plus flexible_time_window (5m) must be shorter than certificate_ttl (25m): a run may start that late, after the certificates expired; lower either, or raise certificate_ttl; keeping renewal_interval and flexible_time_window, certificate_ttl must be over 30m',
    );
  });

  it('refuses output fields of another type, and missing ones, with the output path', () => {
    expect(
      deploymentRefusal(FILE.replace('type: identity', 'type: identity\n        app_name: grafana')),
    ).toBe(
      'deploy/test.yaml: bots[0].outputs[0].app_name (line 9): got "grafana", app_name only applies to application outputs, and this one is identity; remove app_name or set type: application',
    );
    expect(deploymentRefusal(FILE.replace('        app_name: grafana\n', ''))).toBe(
      'deploy/test.yaml: bots[0].outputs[1].app_name (line 9): got nothing, an output of type application needs app_name, the name of the `app` resource',
    );
  });

  it('refuses a bot without outputs or roles, saying the list is empty and what to write', () => {
    expect(deploymentRefusal(FILE.replace(/outputs:[\s\S]*$/, 'outputs: []\n'))).toBe(
      'deploy/test.yaml: bots[0].outputs (line 6): got an empty list, a bot needs at least one output; add one, e.g. outputs: [{name: ssh, type: identity}]',
    );
    expect(deploymentRefusal(FILE.replace('roles: [access]', 'roles: []'))).toBe(
      'deploy/test.yaml: bots[0].roles (line 4): got an empty list, a bot needs at least one role; list one, e.g. roles: [access] (a role defined under resources or in the cluster)',
    );
  });

  it("refuses an output role the bot does not hold, at the role's own line", () => {
    const asked = FILE.replace(
      'type: identity',
      'type: identity\n        roles:\n          - access\n          - admin',
    );
    expect(deploymentRefusal(asked)).toBe(
      'deploy/test.yaml: bots[0].outputs[0].roles[1] (line 11): got "admin", the bot does not hold role "admin"; an output may only ask for roles the bot has (access), so add it to the bot\'s roles or remove it here',
    );
    expect(deploymentRefusal(FILE.replace('type: identity', 'type: identity\n        roles: []'))).toBe(
      "deploy/test.yaml: bots[0].outputs[0].roles (line 9): got an empty list, no role is asked for; remove it to use all the bot's roles, or list some",
    );
  });

  it('refuses a bot name used twice as such, not as a clash of stack output names', () => {
    const twice = `${FILE}  - name: ci\n    roles: [access]\n    outputs: [{ name: ssh, type: identity }]\n`;
    expect(deploymentRefusal(twice)).toBe(
      'deploy/test.yaml: bots[1].name (line 12): got "ci", bots[0] has this name already; give each its own name (its Lambda, output secrets and join token are named after it)',
    );
  });

  it("refuses a second bot whose output would write another bot's secret, naming the first", () => {
    const shared = FILE.replace(
      '    roles: [access]\n',
      '    roles: [access]\n    secret_name_prefix: shared/\n',
    );
    expect(
      deploymentRefusal(
        `${shared}  - name: cd\n    roles: [access]\n    secret_name_prefix: shared/\n    outputs: [{ name: ssh, type: identity }]\n`,
      ),
    ).toBe(
      'deploy/test.yaml: bots[1].secret_name_prefix (line 15): got "shared/", output "ssh" of bot "cd" would write the secret "shared/ssh", which output "ssh" of bot "ci" (bots[0].outputs[0]) writes already; give one of the bots another secret_name_prefix',
    );
    // A prefix that is another bot's default.
    expect(
      deploymentRefusal(
        `${FILE}  - name: cd\n    roles: [access]\n    secret_name_prefix: machine-id/ci/\n    outputs: [{ name: grafana-2, type: identity }, { name: ssh, type: identity }]\n`,
      ),
    ).toBe(
      'deploy/test.yaml: bots[1].secret_name_prefix (line 14): got "machine-id/ci/", output "ssh" of bot "cd" would write the secret "machine-id/ci/ssh", which output "ssh" of bot "ci" (bots[0].outputs[0]) writes already; give one of the bots another secret_name_prefix',
    );
    // The same output names under each bot's own default prefix are fine.
    expect(
      parseDeployment(
        `${FILE}  - name: cd\n    roles: [access]\n    outputs: [{ name: ssh, type: identity }]\n`,
        'd.yaml',
      ).bots,
    ).toHaveLength(2);
  });

  it('refuses an output name used twice in one bot', () => {
    expect(deploymentRefusal(FILE.replace('- name: grafana', '- name: ssh'))).toBe(
      'deploy/test.yaml: bots[0].outputs[1].name (line 9): got "ssh", outputs[0] has this name already; give each its own name (its secret is named after it)',
    );
  });
});
