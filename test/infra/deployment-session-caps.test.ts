import { describe, expect, it } from 'vitest';
import { parseDeployment } from '../../lib/infra/deployment.js';
import { deploymentRefusal } from './deployment-refusal.js';

// A role's max_session_ttl caps every certificate the service issues under it, silently but for a
// warning in the bot's logs. When the role is in the same file, synth can tell that the capped lifetime
// does not cover the bot's schedule, and must say so before the deploy.

const FILE = `cluster_name: prod.example.com
resources:
  - kind: role
    version: v7
    metadata: { name: short }
    spec:
      allow: { logins: [deploy] }
      options: { max_session_ttl: 1h }
bots:
  - name: ci
    roles: [short]
    renewal_interval: 20m
    certificate_ttl: 2h
    outputs:
      - name: ssh
        type: identity
`;

describe('deployment file: lifetimes capped by roles in the file', () => {
  it('accepts a cap the schedule fits in', () => {
    expect(parseDeployment(FILE, 'deploy/test.yaml').bots[0]?.certificate_ttl).toBe(7_200_000);
  });

  it('refuses a cap the schedule does not fit in, naming the role, the output and the fix', () => {
    expect(deploymentRefusal(FILE.replace('renewal_interval: 20m', 'renewal_interval: 1h'))).toBe(
      `deploy/test.yaml: bots[0].certificate_ttl (line 13): role "short" caps the certificates of output "ssh" at its max_session_ttl, 1h, not the 2h asked for; so renewal_interval (1h) must be shorter than the role's max_session_ttl (1h), or certificates expire before they are renewed; lower renewal_interval or raise the role's max_session_ttl; keeping renewal_interval and flexible_time_window, the role's max_session_ttl must be over 1h10m`,
    );
  });

  it('counts only the roles an output asks for', () => {
    const twoRoles = FILE.replace('renewal_interval: 20m', 'renewal_interval: 1h')
      .replace('roles: [short]', 'roles: [short, access]')
      .replace('type: identity', 'type: identity\n        roles: [access]');
    expect(parseDeployment(twoRoles, 'deploy/test.yaml').bots).toHaveLength(1);
  });
});
