import { App } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { loadDeployment, parseDeployment } from '../../lib/infra/deployment.js';
import { MachineIdStack } from '../../lib/infra/machine-id-stack.js';
import { cdkContext, INLINE_CODE } from './support.js';

// Names of roles, apps and Kubernetes clusters a bot uses that the file does not define, while it
// defines others of that kind, are warned of at synth (they may exist in the cluster already).

const RESOURCES = `resources:
  - kind: role
    version: v7
    metadata: {name: grafana-reader}
    spec: {allow: {app_labels: {team: payments}}}
  - kind: app
    version: v3
    metadata: {name: grafana, labels: {team: payments}}
    spec: {uri: 'https://grafana.internal'}
`;

const FILE = `cluster_name: prod.example.com
${RESOURCES}bots:
  - name: ci
    roles: [grafana-reader]
    outputs:
      - name: grafana
        type: application
        app_name: grafana
`;

describe('deployment file: names the file does not define', () => {
  it('warns of nothing when every name is defined, as in the example deployment', () => {
    expect(parseDeployment(FILE, 'deploy/test.yaml').warnings.map((warning) => warning.message)).toEqual([]);
    expect(loadDeployment('deploy/example.yaml').warnings.map((warning) => warning.message)).toEqual([]);
  });

  it('warns of a role and an app the file does not define, at their lines, with the likely name', () => {
    const text = FILE.replace('roles: [grafana-reader]', 'roles: [grafana-readr]').replace(
      'app_name: grafana',
      'app_name: grafna',
    );
    expect(parseDeployment(text, 'deploy/test.yaml').warnings.map((warning) => warning.message)).toEqual([
      'deploy/test.yaml: bots[0].roles[0] (line 13): role "grafana-readr" is not among the roles this file defines; did you mean "grafana-reader"? Unless the cluster has it already (midctl create), every run of bot "ci" fails',
      'deploy/test.yaml: bots[0].outputs[0].app_name (line 17): app "grafna" is not among the apps this file defines; did you mean "grafana"? Unless the cluster has it already (midctl create), output "grafana" fails on every run',
    ]);
  });

  it('ends the sentence when it has no likely name to offer', () => {
    const text = FILE.replace('app_name: grafana', 'app_name: prometheus');
    expect(parseDeployment(text, 'deploy/test.yaml').warnings.map((warning) => warning.message)).toEqual([
      'deploy/test.yaml: bots[0].outputs[0].app_name (line 17): app "prometheus" is not among the apps this file defines. Unless the cluster has it already (midctl create), output "grafana" fails on every run',
    ]);
  });

  it('checks no names of a kind the file defines none of: those are managed in the cluster', () => {
    const text = `cluster_name: prod.example.com
bots:
  - name: ci
    roles: [made-with-midctl]
    outputs:
      - name: grafana
        type: application
        app_name: grafana
`;
    expect(parseDeployment(text, 'deploy/test.yaml').warnings.map((warning) => warning.message)).toEqual([]);
  });

  describe('ssh_host principals', () => {
    const HOSTS = `cluster_name: prod.example.com
resources:
  - kind: node
    version: v2
    sub_kind: openssh
    metadata: {name: web1}
    spec: {addr: '10.0.0.5:22', hostname: web1.internal}
bots:
  - name: web1
    roles: [host-certs]
    outputs:
      - name: host
        type: ssh_host
        principals: [web1.internal]
`;

    it('accepts any name the service takes for a node: its hostname, hostname.<cluster> or address', () => {
      for (const principals of ['[web1.internal]', '[web1.internal.prod.example.com, 10.0.0.5]']) {
        const text = HOSTS.replace('[web1.internal]', principals);
        expect(parseDeployment(text, 'deploy/test.yaml').warnings.map((warning) => warning.message)).toEqual(
          [],
        );
      }
    });

    it('warns of a principal no node of the file answers to, at its line, with the likely name', () => {
      const text = HOSTS.replace('[web1.internal]', '[web1.internal, web1.intenral]');
      expect(parseDeployment(text, 'deploy/test.yaml').warnings.map((warning) => warning.message)).toEqual([
        'deploy/test.yaml: bots[0].outputs[0].principals[1] (line 14): principal "web1.intenral" is not the hostname, hostname.prod.example.com or address of any node this file defines; did you mean "web1.internal"? Unless the cluster has such a node already (midctl create), output "host" fails on every run: host certificates name registered nodes only',
      ]);
      expect(
        parseDeployment(
          HOSTS.replace('[web1.internal]', '[ci-runner.example.net]'),
          'deploy/test.yaml',
        ).warnings.map((warning) => warning.message),
      ).toEqual([
        'deploy/test.yaml: bots[0].outputs[0].principals[0] (line 14): principal "ci-runner.example.net" is not the hostname, hostname.prod.example.com or address of any node this file defines. Unless the cluster has such a node already (midctl create), output "host" fails on every run: host certificates name registered nodes only',
      ]);
    });

    it('checks no principals when the file defines no nodes: those are managed in the cluster', () => {
      const withoutNodes = HOSTS.replace(/resources:[\s\S]*?(?=bots:)/, '').replace(
        '[web1.internal]',
        '[ci-runner.example.net]',
      );
      const deployment = parseDeployment(withoutNodes, 'deploy/test.yaml');
      expect(deployment.resources).toEqual([]);
      expect(deployment.warnings.map((warning) => warning.message)).toEqual([]);
    });
  });

  it('shows the warnings at synth', () => {
    const deployment = parseDeployment(
      FILE.replace('roles: [grafana-reader]', 'roles: [grafana-readr]'),
      'deploy/test.yaml',
    );
    const stack = new MachineIdStack(new App({ context: cdkContext() }), 'Refs', {
      deployment,
      code: { auth: INLINE_CODE, bot: INLINE_CODE },
    });
    Annotations.fromStack(stack).hasWarning(
      '/Refs',
      Match.stringLikeRegexp('role "grafana-readr" is not among the roles this file defines'),
    );
  });
});
