import { describe, expect, it } from 'vitest';
import { parseDeployment } from '../../lib/infra/deployment.js';

// An identity output whose SSH certificate, with the roles and nodes the file defines, would carry more
// principals than OpenSSH accepts is warned of at synth: the service would refuse every run.

const LOGINS = Array.from({ length: 200 }, (_, index) => `u${index}`).join(', ');

const FILE = `cluster_name: prod.example.com
resources:
  - kind: role
    version: v7
    metadata: {name: fleet}
    spec: {allow: {logins: [${LOGINS}], node_labels: {tier: web}}}
  - kind: role
    version: v7
    metadata: {name: ops}
    spec: {allow: {logins: [root]}}
  - kind: node
    version: v2
    sub_kind: openssh
    metadata: {name: web1, labels: {tier: web}}
    spec: {addr: '10.0.0.5:22', hostname: web1}
bots:
  - name: ci
    roles: [fleet, ops]
    outputs:
      - name: ssh
        type: identity
`;

/** The file with its node marked scoped_principals: 200 more principals, 401 in all. */
const SCOPED = FILE.replace("addr: '10.0.0.5:22'", "addr: '10.0.0.5:22', scoped_principals: true");

const warningsOf = (text: string) =>
  parseDeployment(text, 'deploy/test.yaml').warnings.map((warning) => warning.message);

describe('deployment file: identity outputs over the OpenSSH principal limit', () => {
  it('warns of nothing while the principals fit', () => {
    // 201 logins, and no node that scopes them.
    expect(warningsOf(FILE)).toEqual([]);
    // Scoped, but the output asks only for the role without node logins.
    expect(warningsOf(SCOPED.replace('type: identity\n', 'type: identity\n        roles: [ops]\n'))).toEqual(
      [],
    );
  });

  it('warns of a scoped node that takes the certificate over the limit, with the counts and the fix', () => {
    expect(warningsOf(SCOPED)).toEqual([
      'deploy/test.yaml: bots[0].outputs[0].type (line 21): bot "ci" holds roles whose SSH certificate would carry 401 principals with the nodes this file defines, more than the 256 OpenSSH accepts: 201 logins (role "fleet" allows 200, role "ops" allows 1) and 200 node-scoped principals (<login>@<node> for the node marked scoped_principals that they allow logins on). Every run of output "ssh" would be refused (too_many_principals); split the roles fleet, ops between identity outputs (roles: [...] on each), or narrow the roles\' logins, or their node_labels so that fewer scoped nodes count',
    ]);
  });

  it('says nothing when a role comes from the cluster or logins from traits, nor of an identity without logins', () => {
    // A role the cluster holds may deny logins: only the name the file does not define is warned of.
    const heldElsewhere = warningsOf(SCOPED.replace('roles: [fleet, ops]', 'roles: [fleet, ops, admin]'));
    expect(heldElsewhere).toHaveLength(1);
    expect(heldElsewhere[0]).toContain('role "admin" is not among the roles this file defines');
    // Logins from the bot's traits are the cluster's to say (midctl bots update --logins).
    expect(warningsOf(SCOPED.replace('logins: [root]', "logins: ['{{internal.logins}}']"))).toEqual([]);
    // Roles that allow no login still get an identity: its SSH certificate names no account.
    expect(
      warningsOf(FILE.replace(`logins: [${LOGINS}], `, '').replace('logins: [root]', 'app_labels: {app: x}')),
    ).toEqual([]);
  });
});
