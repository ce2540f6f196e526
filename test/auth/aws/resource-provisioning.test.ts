import { describe, expect, it } from 'vitest';
import { tokenFingerprint } from '../../../lib/auth/audit-log.js';
import { provisionResources } from '../../../lib/auth/aws/resource-provisioning.js';
import { createFixture } from '../auth-fixture.js';

const ROLE = (name: string) => `kind: role
version: v7
metadata: {name: ${name}}
spec: {allow: {logins: [deploy]}}
`;

function event(requestType: 'Create' | 'Update' | 'Delete', resources: string, old?: string) {
  return {
    RequestType: requestType,
    ResourceProperties: { ServiceToken: 'arn:aws:lambda:provider', Resources: resources },
    ...(old === undefined
      ? {}
      : { OldResourceProperties: { Resources: old }, PhysicalResourceId: 'machine-id-resources' }),
  };
}

describe('removing a role that bots hold', () => {
  it('is refused by midctl rm, naming the bots, until no bot holds it', async () => {
    const fixture = await createFixture();
    await fixture.service.admin.putResources([roleDocument('held')], false, 'test');
    await fixture.addBot('robot', ['held']);
    await expect(
      fixture.service.admin.deleteResource('role', 'held', undefined, 'test'),
    ).rejects.toMatchObject({
      code: 'role_in_use',
      message: expect.stringContaining('held by bot "robot"'),
    });
    expect(await fixture.service.context.resources.get('role', 'held')).toBeDefined();
    await fixture.service.admin.putResources([roleDocument('other')], false, 'test');
    await fixture.service.admin.updateBot('robot', { set_roles: ['other'] }, 'test');
    await fixture.service.admin.deleteResource('role', 'held', undefined, 'test');
    expect(await fixture.service.context.resources.get('role', 'held')).toBeUndefined();
  });

  it('fails a deploy that drops a role a bot still holds, and a stack delete removes it anyway', async () => {
    const fixture = await createFixture();
    const both = ROLE('kept') + '---\n' + ROLE('dropped');
    await provisionResources(fixture.service, event('Create', both));
    // A bot made beside the deployment with midctl holds the role the next deploy drops.
    await fixture.addBot('adhoc', ['dropped']);
    await expect(
      provisionResources(fixture.service, event('Update', ROLE('kept'), both)),
    ).rejects.toMatchObject({
      code: 'role_in_use',
    });
    expect(await fixture.service.context.resources.get('role', 'dropped')).toBeDefined();
    await provisionResources(fixture.service, event('Delete', both));
    expect(await fixture.service.context.resources.get('role', 'dropped')).toBeUndefined();
    expect(await fixture.service.context.resources.get('role', 'kept')).toBeUndefined();
  });
});

describe('removing a token-method token', () => {
  it('audits it by fingerprint: its name is the join secret', async () => {
    const fixture = await createFixture();
    const token = await fixture.addBot('robot', ['ops']);
    await fixture.service.admin.deleteResource('token', token, undefined, 'test');
    const [deleted] = await fixture.service.admin.events({ type: 'resource.delete' });
    expect(deleted).toMatchObject({ resource: `token/${tokenFingerprint(token)}` });
    expect(JSON.stringify(deleted)).not.toContain(token);
  });
});

function roleDocument(name: string) {
  return { kind: 'role', version: 'v7', metadata: { name }, spec: { allow: { logins: ['deploy'] } } };
}

describe('a resource too large to store', () => {
  it('is refused by name before anything of the file is written', async () => {
    const fixture = await createFixture();
    const logins = Array.from({ length: 6_000 }, (_, index) => `login-${index}`);
    const big = `kind: role\nversion: v7\nmetadata: {name: big}\nspec: {allow: {logins: [${logins.join(', ')}]}}\n`;
    await expect(
      provisionResources(fixture.service, event('Create', `${ROLE('small')}---\n${big}`)),
    ).rejects.toMatchObject({
      code: 'resource_too_large',
      message: expect.stringMatching(
        /^resources\[1\]: role "big" is \d+ KiB as JSON; a resource may be at most 64 KiB/,
      ),
    });
    expect(await fixture.service.context.resources.get('role', 'small')).toBeUndefined();
    expect(await fixture.service.context.resources.get('role', 'big')).toBeUndefined();
  });
});
