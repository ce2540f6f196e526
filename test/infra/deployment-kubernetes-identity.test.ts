import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseDeployment } from '../../lib/infra/deployment.js';

// A kubernetes output whose roles, as the file defines them, allow its cluster but give it no Kubernetes
// user or group, or several users, is warned of at synth: the service would refuse every run.

const KUBE_CA = readFileSync(new URL('../resources/fixtures/kube-ca.pem', import.meta.url), 'utf8');

const FILE = `cluster_name: prod.example.com
resources:
  - kind: role
    version: v7
    metadata: {name: deployer}
    spec: {allow: {kubernetes_labels: {env: prod}, kubernetes_groups: [deployers]}}
  - kind: role
    version: v7
    metadata: {name: viewer}
    spec: {allow: {kubernetes_labels: {env: dev}, kubernetes_users: [viewer]}}
  - kind: kube_cluster
    version: v3
    metadata: {name: prod, labels: {env: prod}}
    spec: {api_server: 'https://k8s.internal:6443', ca_cert: ${JSON.stringify(KUBE_CA)}}
bots:
  - name: ci
    roles: [deployer, viewer]
    outputs:
      - name: kube
        type: kubernetes
        kubernetes_cluster: prod
`;

const warningsOf = (text: string) =>
  parseDeployment(text, 'deploy/test.yaml').warnings.map((warning) => warning.message);

describe('deployment file: kubernetes outputs without a Kubernetes identity', () => {
  it('warns of nothing when the roles give the cluster a group, or a single user', () => {
    expect(warningsOf(FILE)).toEqual([]);
    expect(
      warningsOf(FILE.replace('kubernetes_groups: [deployers]', 'kubernetes_users: [deployer]')),
    ).toEqual([]);
  });

  it('warns of roles that give the cluster neither users nor groups, naming the role whose selector misses it', () => {
    expect(warningsOf(FILE.replace(', kubernetes_groups: [deployers]', ''))).toEqual([
      'deploy/test.yaml: bots[0].outputs[0].kubernetes_cluster (line 21): bot "ci" holds roles that allow kube_cluster "prod" (labels {env: prod}) but give it no kubernetes_users and no kubernetes_groups: role "deployer" selects it and sets neither; role "viewer" sets kubernetes_users [viewer], but its kubernetes_labels {env: dev} do not select it. Every run of output "kube" would be refused (no_kubernetes_identity); a role\'s kubernetes_users and kubernetes_groups apply only to the clusters its kubernetes_labels select: give role "viewer" kubernetes_labels that select kube_cluster "prod" (e.g. kubernetes_labels: {env: prod}), or add kubernetes_groups (or kubernetes_users) that the cluster authorizes to role "deployer", which selects it',
    ]);
  });

  it('says which role denies the groups the others give', () => {
    const denied = FILE.replace(
      'kubernetes_users: [viewer]}}',
      'kubernetes_users: [viewer]}, deny: {kubernetes_groups: [deployers]}}',
    );
    expect(warningsOf(denied)).toEqual([
      'deploy/test.yaml: bots[0].outputs[0].kubernetes_cluster (line 21): bot "ci" holds roles that allow kube_cluster "prod" (labels {env: prod}) but give it no kubernetes_users and no kubernetes_groups: role "deployer" selects it and sets kubernetes_groups [deployers]; role "viewer" sets kubernetes_users [viewer], but its kubernetes_labels {env: dev} do not select it, and denies kubernetes_groups [deployers]. Every run of output "kube" would be refused (no_kubernetes_identity); narrow the deny.kubernetes_users and deny.kubernetes_groups of role "viewer", which deny what the roles give',
    ]);
  });

  it('warns of several users, with the narrower roles that would give one', () => {
    const several = FILE.replace('kubernetes_groups: [deployers]', 'kubernetes_users: [deployer]').replace(
      'kubernetes_labels: {env: dev}',
      "kubernetes_labels: {env: '*'}",
    );
    expect(warningsOf(several)).toEqual([
      'deploy/test.yaml: bots[0].outputs[0].kubernetes_cluster (line 21): bot "ci" holds roles that give kube_cluster "prod" (labels {env: prod}) several kubernetes_users (deployer, viewer), and a certificate names one user: role "deployer" gives deployer; role "viewer" gives viewer. Every run of output "kube" would be refused (ambiguous_kubernetes_user); narrow the output\'s roles so that one user remains (roles: [deployer] gives deployer), or leave one user in the kubernetes_users these roles give the cluster',
    ]);
  });

  it('says nothing of what the roles give when a role, the cluster or a user comes from the cluster', () => {
    const none = FILE.replace(', kubernetes_groups: [deployers]', '');
    // A role the cluster holds may give a group: only the name the file does not define is warned of.
    const heldElsewhere = warningsOf(
      none.replace('roles: [deployer, viewer]', 'roles: [deployer, viewer, ops]'),
    );
    expect(heldElsewhere).toHaveLength(1);
    expect(heldElsewhere[0]).toContain('role "ops" is not among the roles this file defines');
    // A trait template is filled from the bot's traits, which midctl may set in the cluster.
    expect(
      warningsOf(
        none.replace(
          'kubernetes_labels: {env: prod}}',
          "kubernetes_labels: {env: prod}, kubernetes_groups: ['{{internal.kubernetes_groups}}']}",
        ),
      ),
    ).toEqual([]);
    // A cluster the file does not define, in a file that defines none.
    expect(warningsOf(none.replace(/ {2}- kind: kube_cluster\n.*\n.*\n.*\n/, ''))).toEqual([]);
    // A cluster the roles do not allow is told as such, once.
    const unreachable = warningsOf(none.replace('labels: {env: prod}}', 'labels: {env: staging}}'));
    expect(unreachable).toHaveLength(1);
    expect(unreachable[0]).toContain('(kube_cluster_not_allowed)');
  });
});
