import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/core/errors.js';
import { loadDeployment, parseDeployment } from '../../lib/infra/deployment.js';
import { parseResources } from '../../lib/resources/parse-resources.js';

const MINIMAL = `cluster_name: prod.example.com
bots:
  - name: ci
    roles: [access]
    outputs:
      - name: ssh
        type: identity
`;

function errorOf(text: string): ConfigError {
  try {
    parseDeployment(text, 'deploy/test.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  return expect.unreachable('expected the deployment file to be refused');
}

describe('parseDeployment', () => {
  it('reads the example deployment, every documented field included', () => {
    const deployment = loadDeployment(new URL('../../deploy/example.yaml', import.meta.url).pathname);
    expect(deployment.cluster_name).toBe('example.test');
    expect(deployment.signature_suite).toBe('balanced');
    expect(deployment.log_retention_days).toBe(30);
    expect(deployment.bots.map((bot) => bot.name)).toEqual(['grafana-client', 'deployer']);
    const grafana = deployment.bots[0];
    expect(grafana).toMatchObject({
      roles: ['grafana-reader'],
      renewal_interval: 20 * 60_000,
      certificate_ttl: 3_600_000,
      flexible_time_window: 5 * 60_000,
      secret_name_prefix: 'machine-id/grafana-client/',
      outputs: [{ name: 'grafana', type: 'application', app_name: 'grafana', specific_tls_naming: false }],
    });
    // The example reader is commented out: a role that does not exist would fail the deploy.
    expect(grafana?.readers).toBeUndefined();
    // The resources travel as YAML that the service's parser reads back unchanged.
    const resources = parseResources(deployment.resourcesYaml ?? '', 'resources');
    expect(resources.map((resource) => `${resource.kind}/${resource.metadata.name}`)).toEqual([
      'role/grafana-reader',
      'role/deploy',
      'app/grafana',
      'node/web1',
    ]);
  });

  it('reads a minimal file with defaults', () => {
    const deployment = parseDeployment(MINIMAL, 'deploy/test.yaml');
    expect(deployment).toMatchObject({
      cluster_name: 'prod.example.com',
      resources: [],
      resourcesYaml: undefined,
    });
    expect(deployment.signature_suite).toBeUndefined();
    expect(deployment.kms_key_arn).toBeUndefined();
  });

  it('refuses an unknown key at the top, naming it and its line', () => {
    const error = errorOf(`${MINIMAL}regoin: eu-west-1\n`);
    expect(error.code).toBe('invalid_deployment');
    expect(error.message).toBe(
      'deploy/test.yaml: (top level) (line 8): unknown key "regoin"; remove it or check the spelling',
    );
  });

  it('refuses an unknown key inside an output, with its path', () => {
    const error = errorOf(MINIMAL.replace('type: identity', 'type: identity\n        destination: /tmp'));
    expect(error.message).toBe(
      'deploy/test.yaml: bots[0].outputs[0] (line 8): unknown key "destination"; remove it or check the spelling',
    );
  });

  it('refuses wrong types and values with the path and what to write', () => {
    expect(errorOf(MINIMAL.replace('type: identity', 'type: database')).message).toContain(
      'bots[0].outputs[0].type (line 7): got "database", expected one of "identity", "application", "kubernetes", "ssh_host"',
    );
    expect(errorOf(`${MINIMAL}signature_suite: rsa\n`).message).toContain(
      'signature_suite (line 8): got "rsa"',
    );
    expect(
      errorOf(MINIMAL.replace('roles: [access]', 'roles: [access]\n    renewal_interval: soon')).message,
    ).toContain(
      'bots[0].renewal_interval (line 5): got "soon", expected a duration; write it in h, m, s or ms, like 1h, 20m, 90s or 1h30m',
    );
    expect(
      errorOf(MINIMAL.replace('roles: [access]', 'roles: [access]\n    certificate_ttl: 1d')).message,
    ).toContain(
      'bots[0].certificate_ttl (line 5): got "1d", expected a duration; write it in h, m, s or ms, like 1h, 20m, 90s or 1h30m (days are not a unit: write 1d as 24h)',
    );
    expect(errorOf(`${MINIMAL}log_retention_days: 10\n`).message).toContain(
      'log_retention_days (line 8): got 10, expected a retention CloudWatch Logs offers: 1, 3, 5, 7, 14, 30',
    );
  });

  it('refuses a KMS alias where a key ARN is needed', () => {
    expect(errorOf(`${MINIMAL}kms_key_arn: alias/machine-id\n`).message).toContain(
      'kms_key_arn (line 8): got "alias/machine-id", expected a KMS key ARN',
    );
  });

  it('refuses a reader that is not a role ARN', () => {
    expect(
      errorOf(MINIMAL.replace('roles: [access]', 'roles: [access]\n    readers: [my-app]')).message,
    ).toContain('bots[0].readers[0] (line 5): got "my-app", expected an IAM role ARN');
  });

  it('refuses bots and tokens among the resources: they come from bots:', () => {
    const text = `${MINIMAL}resources:\n  - kind: token\n    version: v2\n    metadata: {name: ci-iam}\n    spec: {}\n`;
    expect(errorOf(text).message).toContain(
      'resources[0].kind (line 9): got "token", token resources come from the bots: section',
    );
  });

  it("refuses a resource the service would refuse, with the resource's own message, at the line of the key", () => {
    const text = `${MINIMAL}resources:\n  - kind: role\n    version: v7\n    metadata: {name: ops}\n    spec:\n      allow: {logins: [root]}\n      colour: red\n`;
    const error = errorOf(text);
    expect(error.code).toBe('invalid_resource');
    expect(error.message).toBe(
      'deploy/test.yaml: resources[0]: role "ops": spec (line 14): unknown key "colour"; remove it or check the spelling',
    );
  });

  it('refuses a missing cluster name, saying what to write', () => {
    expect(errorOf('bots: []\n').message).toContain(
      'cluster_name (line 1): got nothing, expected the cluster name, e.g. cluster_name: prod.example.com',
    );
  });

  it('refuses YAML aliases, duplicate keys and a second document', () => {
    expect(errorOf('cluster_name: &n a\nbots: []\nx: *n\n').code).toBe('invalid_yaml');
    expect(errorOf('cluster_name: a\ncluster_name: b\n').message).toContain('appears twice');
    expect(errorOf(`${MINIMAL}---\ncluster_name: other\n`).message).toContain(
      'line 9 starts a second YAML document; a deployment file holds one',
    );
  });

  it('says how to pass a deployment file that cannot be read', () => {
    expect(() => loadDeployment('deploy/does-not-exist.yaml')).toThrow(
      /cannot read the deployment file deploy\/does-not-exist\.yaml \(ENOENT\); pass one with -c deployment=<file> or MID_DEPLOYMENT=<file>/,
    );
  });

  it('documents every field of the schema in the example file', () => {
    const example = readFileSync(new URL('../../deploy/example.yaml', import.meta.url), 'utf8');
    for (const field of [
      'cluster_name',
      'signature_suite',
      'kms_key_arn',
      'log_retention_days',
      'resources',
      'bots',
      'name',
      'roles',
      'renewal_interval',
      'certificate_ttl',
      'flexible_time_window',
      'secret_name_prefix',
      'readers',
      'outputs',
      'type',
      'app_name',
      'specific_tls_naming',
      'kubernetes_cluster',
      'principals',
    ]) {
      expect(example, field).toMatch(new RegExp(`^\\s*#?\\s*(- )?${field}:`, 'm'));
    }
  });
});
