import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseResources } from '../../lib/resources/parse-resources.js';

const fixture = (name: string) => {
  const path = new URL(`./fixtures/${name}`, import.meta.url);
  return parseResources(readFileSync(path, 'utf8'), name);
};

describe('the YAML examples of the Teleport Machine ID guides', () => {
  it('reads the application access role (v5)', () => {
    expect(fixture('guide-app-role.yaml')).toEqual([
      {
        kind: 'role',
        version: 'v5',
        metadata: { name: 'machine-id-app-role' },
        spec: { allow: { app_labels: { '*': '*' } } },
      },
    ]);
  });

  it('reads the server access role (v6)', () => {
    expect(fixture('guide-server-role.yaml')).toEqual([
      {
        kind: 'role',
        version: 'v6',
        metadata: { name: 'example-role' },
        spec: { allow: { logins: ['root'], node_labels: { '*': '*' } } },
      },
    ]);
  });

  it('reads the Kubernetes access role (v6)', () => {
    expect(fixture('guide-kube-role.yaml')).toEqual([
      {
        kind: 'role',
        version: 'v6',
        metadata: { name: 'machine-id-kube-role' },
        spec: {
          allow: {
            kubernetes_labels: { '*': '*' },
            kubernetes_resources: [{ kind: 'pod', namespace: '*', name: '*' }],
            kubernetes_groups: ['example'],
            kubernetes_users: ['alice'],
          },
        },
      },
    ]);
  });

  it('reads the IAM join token of the getting started guide, expiry normalised', () => {
    expect(fixture('guide-iam-token.yaml')).toEqual([
      {
        kind: 'token',
        version: 'v2',
        metadata: { name: 'iam-token', expires: '3000-01-01T00:00:00.000Z' },
        spec: {
          roles: ['Bot'],
          join_method: 'iam',
          bot_name: 'robot',
          allow: [
            {
              aws_account: '111111111111',
              aws_arn: 'arn:aws:sts::111111111111:assumed-role/teleport-bot-role/i-*',
            },
          ],
        },
      },
    ]);
  });

  it('reads all of them from one multi-document file', () => {
    const names = [
      'guide-app-role.yaml',
      'guide-server-role.yaml',
      'guide-kube-role.yaml',
      'guide-iam-token.yaml',
    ];
    const text = names
      .map((name) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'))
      .join('---\n');
    expect(parseResources(text, 'all.yaml').map((r) => `${r.kind}/${r.metadata.name}`)).toEqual([
      'role/machine-id-app-role',
      'role/example-role',
      'role/machine-id-kube-role',
      'token/iam-token',
    ]);
  });
});
