import { describe, expect, it } from 'vitest';
import { NO_LOGIN_PRINCIPAL } from '../../lib/auth/certificate-issuer.js';
import { parseSshCertificate } from '../../lib/pki/ssh-certificate.js';
import { createFixture, issueOutput } from './auth-fixture.js';

type Fixture = Awaited<ReturnType<typeof createFixture>>;

const ROLE = (name: string, allow: object, deny?: object) => ({
  kind: 'role',
  version: 'v7',
  metadata: { name },
  spec: { allow, ...(deny === undefined ? {} : { deny }) },
});

const NODE = (name: string, labels: Record<string, string>, scoped: boolean) => ({
  kind: 'node',
  sub_kind: 'openssh',
  version: 'v2',
  metadata: { name, labels },
  spec: { addr: `${name}.internal:22`, hostname: name, ...(scoped ? { scoped_principals: true } : {}) },
});

/** The SSH principals of an identity output for a bot holding `roles`. */
async function principalsOf(fixture: Fixture, roles: string[]): Promise<string[]> {
  const token = await fixture.addBot('robot', roles);
  const { signer } = await fixture.join(token);
  const output = await issueOutput(fixture, signer, { output: 'identity' });
  return parseSshCertificate(output.ssh_cert as string).principals;
}

async function withResources(resources: object[]): Promise<Fixture> {
  const fixture = await createFixture();
  await fixture.service.admin.putResources(resources, false, 'test');
  return fixture;
}

describe('node-scoped SSH principals', () => {
  it('adds <login>@<node> for a scoped node the roles allow, and none for an unscoped one', async () => {
    const fixture = await withResources([
      ROLE('dev', { logins: ['root', 'deploy'], node_labels: { env: 'dev' } }),
      NODE('dev-1', { env: 'dev' }, true),
      NODE('dev-2', { env: 'dev' }, false),
    ]);

    expect((await principalsOf(fixture, ['dev'])).sort()).toEqual(
      ['deploy', 'deploy@dev-1', 'root', 'root@dev-1'].sort(),
    );
  });

  it('gives none for a scoped node the roles’ node_labels do not match', async () => {
    const fixture = await withResources([
      ROLE('dev', { logins: ['root'], node_labels: { env: 'dev' } }),
      NODE('prod-1', { env: 'prod' }, true),
    ]);

    expect(await principalsOf(fixture, ['dev'])).toEqual(['root']);
  });

  it('scopes each role’s logins to the nodes its own node_labels match', async () => {
    const fixture = await withResources([
      ROLE('dev', { logins: ['root'], node_labels: { env: 'dev' } }),
      ROLE('prod', { logins: ['reader'], node_labels: { env: 'prod' } }),
      NODE('dev-1', { env: 'dev' }, true),
      NODE('prod-1', { env: 'prod' }, true),
    ]);

    const principals = await principalsOf(fixture, ['dev', 'prod']);

    expect(principals).toContain('root@dev-1');
    expect(principals).toContain('reader@prod-1');
    // The dev role's root must not reach prod through the prod role's node_labels.
    expect(principals).not.toContain('root@prod-1');
    expect(principals).not.toContain('reader@dev-1');
  });

  it('gives none for a node a deny rule matches, nor for a denied login', async () => {
    const fixture = await withResources([
      ROLE('all', { logins: ['root', 'deploy'], node_labels: { '*': '*' } }),
      ROLE('no-db', {}, { node_labels: { tier: 'db' }, logins: ['deploy'] }),
      NODE('web-1', { tier: 'web' }, true),
      NODE('db-1', { tier: 'db' }, true),
    ]);

    const principals = await principalsOf(fixture, ['all', 'no-db']);

    expect(principals.sort()).toEqual(['root', 'root@web-1'].sort());
  });

  it('refuses, naming the fix, more principals than OpenSSH accepts', async () => {
    const nodes = Array.from({ length: 130 }, (_, index) => NODE(`web-${index}`, { tier: 'web' }, true));
    const fixture = await withResources([
      ROLE('web', { logins: ['root', 'deploy'], node_labels: { tier: 'web' } }),
      ...nodes,
    ]);
    const token = await fixture.addBot('robot', ['web']);
    const { signer } = await fixture.join(token);

    await expect(issueOutput(fixture, signer, { output: 'identity' })).rejects.toMatchObject({
      code: 'too_many_principals',
      message: expect.stringContaining('2 logins and 260 node-scoped principals'),
    });
  });

  it('issues roles without logins an identity whose SSH certificate names no account', async () => {
    // Not refused: the TLS certificate serves on its own, and a deployment file's synth stays silent.
    const fixture = await withResources([NODE('web-1', { tier: 'web' }, true)]);

    expect(await principalsOf(fixture, ['apps'])).toEqual([NO_LOGIN_PRINCIPAL]);
  });
});
