import { describe, expect, it } from 'vitest';
import { createFixture, issueOutput } from './auth-fixture.js';

// A kubernetes output's certificate names who the bot is in the cluster: its roles must give the cluster
// a Kubernetes user or group, and no more than one user.

async function withKubeRoles(roles: Record<string, Record<string, unknown>>) {
  const fixture = await createFixture();
  await fixture.service.admin.putResources(
    [
      ...Object.entries(roles).map(([name, allow]) => ({
        kind: 'role',
        version: 'v7',
        metadata: { name },
        spec: { allow },
      })),
      {
        kind: 'kube_cluster',
        version: 'v3',
        metadata: { name: 'prod', labels: { env: 'prod' } },
        spec: {
          api_server: 'https://127.0.0.1:6443',
          ca_cert: fixture.service.context.cas.tlsHost.certificatePem,
        },
      },
    ],
    false,
    'test',
  );
  const { signer } = await fixture.join(await fixture.addBot('deployer', Object.keys(roles)));
  return (roles?: string[]) =>
    issueOutput(fixture, signer, {
      output: 'kubernetes',
      kubernetes_cluster: 'prod',
      ...(roles === undefined ? {} : { roles }),
    });
}

describe('kubernetes output identity', () => {
  it('refuses roles that allow the cluster but give it no user and no group', async () => {
    const issue = await withKubeRoles({
      'kube-prod': { kubernetes_labels: { env: 'prod' } },
      // Groups of a role whose kubernetes_labels do not select the cluster do not apply to it.
      'kube-dev': { kubernetes_labels: { env: 'dev' }, kubernetes_groups: ['developers'] },
    });
    await expect(issue()).rejects.toMatchObject({
      code: 'no_kubernetes_identity',
      message: expect.stringContaining('set neither kubernetes_users nor kubernetes_groups'),
    });
  });

  it('refuses several users, and issues once the output narrows its roles to one', async () => {
    const issue = await withKubeRoles({
      admin: { kubernetes_labels: { env: 'prod' }, kubernetes_users: ['admin'] },
      deploy: { kubernetes_labels: { env: 'prod' }, kubernetes_users: ['deployer'] },
    });
    await expect(issue()).rejects.toMatchObject({
      code: 'ambiguous_kubernetes_user',
      message: expect.stringContaining('several kubernetes_users (admin, deployer)'),
    });
    await expect(issue(['deploy'])).resolves.toMatchObject({ kubernetes: { user: 'deployer', groups: [] } });
  });

  it("issues with groups alone, as the bot's user", async () => {
    const issue = await withKubeRoles({
      viewers: { kubernetes_labels: { env: 'prod' }, kubernetes_groups: ['viewers'] },
    });
    await expect(issue()).resolves.toMatchObject({
      kubernetes: { user: 'bot-deployer', groups: ['viewers'] },
    });
  });
});
