import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseDeployment } from '../../lib/infra/deployment.js';

// An application or kubernetes output whose roles, as the file defines them, do not select the app or
// Kubernetes cluster the file defines is warned of at synth: the service would refuse every run.

const KUBE_CA = readFileSync(new URL('../resources/fixtures/kube-ca.pem', import.meta.url), 'utf8');

const FILE = `cluster_name: prod.example.com
resources:
  - kind: role
    version: v7
    metadata: {name: grafana-reader}
    spec: {allow: {app_labels: {app: grafana}}}
  - kind: role
    version: v7
    metadata: {name: deployer}
    spec: {allow: {kubernetes_labels: {env: [staging, prod]}, kubernetes_groups: [deployers]}}
  - kind: app
    version: v3
    metadata: {name: grafana, labels: {app: grafana}}
    spec: {uri: 'https://grafana.internal'}
  - kind: kube_cluster
    version: v3
    metadata: {name: prod, labels: {env: prod}}
    spec: {api_server: 'https://k8s.internal:6443', ca_cert: ${JSON.stringify(KUBE_CA)}}
bots:
  - name: ci
    roles: [grafana-reader, deployer]
    outputs:
      - name: grafana
        type: application
        app_name: grafana
      - name: kube
        type: kubernetes
        kubernetes_cluster: prod
`;

const warningsOf = (text: string) =>
  parseDeployment(text, 'deploy/test.yaml').warnings.map((warning) => warning.message);

describe('deployment file: roles that cannot reach an output', () => {
  it('warns of nothing when the roles select the app and the cluster', () => {
    expect(warningsOf(FILE)).toEqual([]);
    // A selector with a wildcard, as the service matches it.
    expect(warningsOf(FILE.replace('app_labels: {app: grafana}', "app_labels: {app: 'graf*'}"))).toEqual([]);
  });

  it("warns of an app the bot's roles do not select, naming the bot, the labels, the roles and the fix", () => {
    expect(warningsOf(FILE.replace('app_labels: {app: grafana}', 'app_labels: {team: payments}'))).toEqual([
      'deploy/test.yaml: bots[0].outputs[0].app_name (line 25): bot "ci" holds roles that do not allow app "grafana" (labels {app: grafana}): role "grafana-reader" allows app_labels {team: payments}; role "deployer" sets no app_labels. Every run of output "grafana" would be refused (app_not_allowed); add a selector its labels match to one of these roles\' app_labels (e.g. app_labels: {app: grafana}), or give app "grafana" labels a role selects',
    ]);
  });

  it('warns under an id of its own, so that acknowledging names kept in the cluster does not hide it', () => {
    const text = FILE.replace('app_labels: {app: grafana}', 'app_labels: {team: payments}').replace(
      'kubernetes_cluster: prod',
      'kubernetes_cluster: prd',
    );
    const ids = parseDeployment(text, 'deploy/test.yaml').warnings.map((warning) => warning.id);
    expect(ids.sort()).toEqual(['machine-id:output-not-allowed-by-roles', 'machine-id:undefined-reference']);
  });

  it('warns of a Kubernetes cluster the roles do not select', () => {
    expect(warningsOf(FILE.replace('labels: {env: prod}', 'labels: {env: dev}'))).toEqual([
      'deploy/test.yaml: bots[0].outputs[1].kubernetes_cluster (line 28): bot "ci" holds roles that do not allow kube_cluster "prod" (labels {env: dev}): role "grafana-reader" sets no kubernetes_labels; role "deployer" allows kubernetes_labels {env: [staging, prod]}. Every run of output "kube" would be refused (kube_cluster_not_allowed); add a selector its labels match to one of these roles\' kubernetes_labels (e.g. kubernetes_labels: {env: dev}), or give kube_cluster "prod" labels a role selects',
    ]);
  });

  it('says which role denies an app its allow rules select', () => {
    const denied = FILE.replace(
      'spec: {allow: {app_labels: {app: grafana}}}',
      "spec: {allow: {app_labels: {'*': '*'}}, deny: {app_labels: {app: grafana}}}",
    );
    expect(warningsOf(denied)).toEqual([
      'deploy/test.yaml: bots[0].outputs[0].app_name (line 25): bot "ci" holds roles that do not allow app "grafana" (labels {app: grafana}): role "grafana-reader" allows app_labels {"*": "*"}, denies app_labels {app: grafana}; role "deployer" sets no app_labels. Every run of output "grafana" would be refused (app_not_allowed); role "grafana-reader" denies it: narrow deny.app_labels, or change the app\'s labels',
    ]);
  });

  it("judges an output by the roles it narrows to, not all the bot's", () => {
    const narrowed = FILE.replace('app_name: grafana\n', 'app_name: grafana\n        roles: [deployer]\n');
    expect(warningsOf(narrowed)).toEqual([
      'deploy/test.yaml: bots[0].outputs[0].app_name (line 25): output "grafana" of bot "ci" uses roles that do not allow app "grafana" (labels {app: grafana}): role "deployer" sets no app_labels. Every run of output "grafana" would be refused (app_not_allowed); add a selector its labels match to one of these roles\' app_labels (e.g. app_labels: {app: grafana}), or give app "grafana" labels a role selects',
    ]);
  });

  it('says nothing of access when a role the output uses, or its app, is kept in the cluster', () => {
    const cannotReach = FILE.replace('app_labels: {app: grafana}', 'app_labels: {team: payments}');
    // A role the file does not define may allow the app: only the missing name is warned of.
    const heldElsewhere = warningsOf(
      cannotReach.replace('roles: [grafana-reader, deployer]', 'roles: [grafana-reader, deployer, viewer]'),
    );
    expect(heldElsewhere).toHaveLength(1);
    expect(heldElsewhere[0]).toContain('role "viewer" is not among the roles this file defines');
    // An app the file does not define, in a file that defines no apps.
    const appElsewhere = cannotReach.replace(/ {2}- kind: app\n.*\n.*\n.*\n/, '');
    expect(parseDeployment(appElsewhere, 'deploy/test.yaml').resources).toHaveLength(3);
    expect(warningsOf(appElsewhere)).toEqual([]);
  });
});
