import { describe, expect, it } from 'vitest';
import { parseDeployment } from '../../lib/infra/deployment.js';

// An ssh_host output whose roles, as the file defines them, do not allow host certificates is warned of
// at synth: the service would refuse every run.

const FILE = `cluster_name: prod.example.com
resources:
  - kind: role
    version: v7
    metadata: {name: access}
    spec: {allow: {logins: [ubuntu], node_labels: {'*': '*'}}}
  - kind: role
    version: v7
    metadata: {name: host-signer}
    spec: {allow: {rules: [{resources: [host_cert], verbs: [create]}]}}
  - kind: node
    version: v2
    sub_kind: openssh
    metadata: {name: web1}
    spec: {addr: '10.0.0.5:22', hostname: web1}
bots:
  - name: web1-host
    roles: [access, host-signer]
    outputs:
      - name: host
        type: ssh_host
        principals: [web1]
`;

const warningsOf = (text: string) =>
  parseDeployment(text, 'deploy/test.yaml').warnings.map((warning) => warning.message);

describe('deployment file: ssh_host outputs without the host_cert rule', () => {
  it('warns of nothing when a role allows host certificates', () => {
    expect(warningsOf(FILE)).toEqual([]);
    // A wildcard rule allows them as the service reads it.
    expect(
      warningsOf(FILE.replace('resources: [host_cert], verbs: [create]', "resources: ['*'], verbs: ['*']")),
    ).toEqual([]);
  });

  it("warns when the bot's roles hold no such rule, naming the roles and the rule to add", () => {
    expect(warningsOf(FILE.replace('verbs: [create]', 'verbs: [read]'))).toEqual([
      'deploy/test.yaml: bots[0].outputs[0].type (line 21): bot "web1-host" holds roles that do not allow host certificates: role "access" has no rule allowing create on host_cert; role "host-signer" has no rule allowing create on host_cert. Every run of ssh_host output "host" would be refused (host_cert_not_allowed); add `rules: [{resources: [host_cert], verbs: [create]}]` to the allow of one of these roles, or give the bot a role that has it (and give such a role only to bots that run on the hosts they name)',
    ]);
  });

  it('names the role of the bot to add when the output narrows its roles to ones without the rule', () => {
    const narrowed = FILE.replace('principals: [web1]\n', 'principals: [web1]\n        roles: [access]\n');
    expect(warningsOf(narrowed)).toEqual([
      'deploy/test.yaml: bots[0].outputs[0].type (line 21): output "host" of bot "web1-host" uses roles that do not allow host certificates: role "access" has no rule allowing create on host_cert. Every run of ssh_host output "host" would be refused (host_cert_not_allowed); the bot holds role "host-signer", which allows it: add it to the output\'s roles (roles: [access, host-signer])',
    ]);
  });

  it('says which role denies the rule another role allows', () => {
    const denied = FILE.replace(
      "spec: {allow: {logins: [ubuntu], node_labels: {'*': '*'}}}",
      "spec: {allow: {logins: [ubuntu], node_labels: {'*': '*'}}, deny: {rules: [{resources: ['*'], verbs: [create]}]}}",
    );
    expect(warningsOf(denied)).toEqual([
      'deploy/test.yaml: bots[0].outputs[0].type (line 21): bot "web1-host" holds roles that do not allow host certificates: role "access" has no rule allowing create on host_cert, and denies it; role "host-signer" allows create on host_cert. Every run of ssh_host output "host" would be refused (host_cert_not_allowed); narrow the deny.rules of role "access" so that none matches create on host_cert, or leave it out of this output (roles: [host-signer])',
    ]);
  });

  it('says nothing when a role the output uses is kept in the cluster, nor of other output types', () => {
    const withoutRule = FILE.replace('verbs: [create]', 'verbs: [read]');
    // The cluster's "signer" may hold the rule: only the name the file does not define is warned of.
    const heldElsewhere = warningsOf(
      withoutRule.replace('roles: [access, host-signer]', 'roles: [access, host-signer, signer]'),
    );
    expect(heldElsewhere).toHaveLength(1);
    expect(heldElsewhere[0]).toContain('role "signer" is not among the roles this file defines');
    expect(
      warningsOf(withoutRule.replace('type: ssh_host\n        principals: [web1]', 'type: identity')),
    ).toEqual([]);
  });
});
