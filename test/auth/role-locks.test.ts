import { describe, expect, it } from 'vitest';
import { ROUTES } from '../../lib/api/routes.js';
import { listLocks } from '../../lib/auth/lock-listing.js';
import { MemoryBackend } from '../../lib/auth/storage/memory-backend.js';
import { ManualClock } from '../../lib/core/clock.js';
import { createFixture, GRAFANA_APP, issueOutput, renewIdentity, START } from './auth-fixture.js';

const OPERATOR = 'arn:aws:iam::123456789012:user/oncall';

/** A bot `robot` holding roles `ops` and `apps`, joined; storage follows the service's clock. */
async function lockable() {
  const clock = new ManualClock(START);
  const fixture = await createFixture(new MemoryBackend(clock), clock);
  await fixture.service.admin.putResources([GRAFANA_APP], false, 'test');
  const { signer } = await fixture.join(await fixture.addBot('robot', ['ops', 'apps']));
  return { fixture, signer };
}

type Fixture = Awaited<ReturnType<typeof lockable>>['fixture'];
type Signer = Awaited<ReturnType<typeof lockable>>['signer'];

const heartbeat = (fixture: Fixture, signer: Signer) =>
  fixture.service.authenticator.authenticate(signer.request(ROUTES.botHeartbeat, {}), { requestId: 'h' });

const now = (fixture: Fixture) => new Date(fixture.clock.now()).toISOString();

describe('an operator lock on a role', () => {
  it('refuses every certificate to a bot holding the role, whichever roles an output asks for, and audits who locked it', async () => {
    const { fixture, signer } = await lockable();
    const lock = await fixture.service.roleLocks.lock('ops', { message: 'ops role leaked' }, OPERATOR);
    expect(lock).toEqual({ role: 'ops', at: now(fixture), reason: 'ops role leaked', by: OPERATOR });
    const refusal = {
      code: 'role_locked',
      httpStatus: 403,
      message: `bot "robot" holds role "ops", which an operator locked at ${now(fixture)}: ops role leaked. No certificate is issued to a bot holding a locked role. An operator lifts it with \`midctl unlock role/ops\``,
    };
    await expect(renewIdentity(fixture, signer)).rejects.toMatchObject(refusal);
    await expect(issueOutput(fixture, signer, { output: 'identity' })).rejects.toMatchObject(refusal);
    // Only the unlocked role asked for: refused all the same, as tctl lock --role refuses the user.
    await expect(
      issueOutput(fixture, signer, { output: 'application', app_name: 'grafana', roles: ['apps'] }),
    ).rejects.toMatchObject(refusal);
    // A heartbeat issues nothing: the bot still says how it is.
    await expect(heartbeat(fixture, signer)).resolves.toBeDefined();
    const [locked] = await fixture.service.admin.events({ type: 'role.lock' });
    expect(locked).toMatchObject({
      outcome: 'success',
      code: 'operator_lock',
      actor: OPERATOR,
      resource: 'role/ops',
      message: 'ops role leaked',
    });
    const refused = await fixture.service.admin.events({ type: 'cert' });
    expect(refused.map((event) => `${event.type}:${event.code}`)).toEqual(
      Array(2).fill('cert.issue:role_locked'),
    );
    expect((await fixture.service.admin.events({ type: 'bot.renew' }))[0]?.code).toBe('role_locked');
    expect(await listLocks(fixture.service.context)).toEqual([
      { target: 'role/ops', at: lock.at, reason: 'ops role leaked', by: OPERATOR },
    ]);
  });

  it('refuses a token join without spending the token, which joins once the role is unlocked', async () => {
    const { fixture } = await lockable();
    const token = (await fixture.service.admin.addToken('robot', undefined, 'test')).metadata.name;
    await fixture.service.roleLocks.lock('apps', {}, OPERATOR);
    await expect(fixture.join(token)).rejects.toMatchObject({
      code: 'role_locked',
      message: expect.stringMatching(
        /^bot "robot" holds role "apps", .*: no reason given\. .*; the join token was not used$/,
      ),
    });
    expect(await fixture.service.context.resources.get('token', token)).toBeDefined();
    const [refusedJoin] = await fixture.service.admin.events({ type: 'bot.join' });
    expect(refusedJoin).toMatchObject({ outcome: 'failure', code: 'role_locked', bot: 'robot' });
    await fixture.service.roleLocks.unlock('apps', 'admin');
    await expect(fixture.join(token)).resolves.toMatchObject({ identity: { bot_name: 'robot' } });
  });

  it('leaves bots that do not hold the role alone', async () => {
    const { fixture, signer } = await lockable();
    await fixture.service.admin.putResources(
      [{ kind: 'role', version: 'v7', metadata: { name: 'unused' }, spec: { allow: { logins: ['x'] } } }],
      false,
      'test',
    );
    await fixture.service.roleLocks.lock('unused', {}, OPERATOR);
    await expect(issueOutput(fixture, signer, { output: 'identity' })).resolves.toBeDefined();
    await expect(renewIdentity(fixture, signer)).resolves.toBeDefined();
  });

  it('is lifted by unlock or at its expiry, and a second lock replaces it only when asked', async () => {
    const { fixture, signer } = await lockable();
    await fixture.service.roleLocks.lock('ops', { message: 'incident 7' }, OPERATOR);
    await expect(
      fixture.service.roleLocks.lock('ops', { message: 'brief', ttl_seconds: 1 }, 'admin'),
    ).rejects.toMatchObject({
      code: 'role_already_locked',
      httpStatus: 409,
      message: `role "ops" is already locked, by ${OPERATOR} from ${now(fixture)}: incident 7; to put this lock in its place, lock again with replace (midctl lock --replace)`,
    });
    await fixture.service.roleLocks.lock(
      'ops',
      { message: 'confirmed', ttl_seconds: 60, replace: true },
      'admin',
    );
    const [replacing] = await fixture.service.admin.events({ type: 'role.lock' });
    expect(replacing?.message).toMatch(/^confirmed \(until \S+\); replaces the lock of .+: incident 7$/);
    await expect(issueOutput(fixture, signer, { output: 'identity' })).rejects.toMatchObject({
      message: expect.stringContaining(
        ': confirmed. No certificate is issued to a bot holding a locked role. It lifts by itself at',
      ),
    });
    fixture.clock.advance(60_000);
    await expect(issueOutput(fixture, signer, { output: 'identity' })).resolves.toBeDefined();
    await expect(fixture.service.roleLocks.unlock('ops', 'admin')).rejects.toMatchObject({
      code: 'role_not_locked',
      message: 'role "ops" is not locked',
    });

    await fixture.service.roleLocks.lock('ops', {}, OPERATOR);
    await expect(fixture.service.roleLocks.unlock('ops', 'admin')).resolves.toMatchObject({ by: OPERATOR });
    await expect(issueOutput(fixture, signer, { output: 'identity' })).resolves.toBeDefined();
    const [unlock] = await fixture.service.admin.events({ type: 'role.unlock' });
    expect(unlock).toMatchObject({
      actor: 'admin',
      resource: 'role/ops',
      message: expect.stringMatching(/^lifted the lock of /),
    });
  });

  it('names a role that does not exist, and goes when the role is removed', async () => {
    const { fixture } = await lockable();
    await expect(fixture.service.roleLocks.lock('nope', {}, OPERATOR)).rejects.toMatchObject({
      code: 'role_not_found',
      httpStatus: 404,
    });
    const role = {
      kind: 'role',
      version: 'v7',
      metadata: { name: 'spare' },
      spec: { allow: { logins: ['x'] } },
    };
    await fixture.service.admin.putResources([role], false, 'test');
    await fixture.service.roleLocks.lock('spare', {}, OPERATOR);
    await fixture.service.admin.deleteResource('role', 'spare', undefined, 'admin');
    expect(await fixture.service.roleLocks.list()).toEqual([]);
    const [removed] = await fixture.service.admin.events({ type: 'role.unlock' });
    expect(removed?.message).toMatch(/^removed with the role: the lock of /);
    // A role made again under the name, and a bot holding it, start unlocked.
    await fixture.service.admin.putResources([role], false, 'test');
    await expect(fixture.join(await fixture.addBot('spare-bot', ['spare']))).resolves.toBeDefined();
  });
});
