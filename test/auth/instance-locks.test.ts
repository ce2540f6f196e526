import { describe, expect, it } from 'vitest';
import { ROUTES } from '../../lib/api/routes.js';
import { DEFAULT_LOCK_MESSAGE } from '../../lib/auth/operator-lock.js';
import { createFixture, GRAFANA_APP, issueOutput, renewIdentity } from './auth-fixture.js';

const OPERATOR = 'arn:aws:iam::123456789012:user/oncall';

async function joined() {
  const fixture = await createFixture();
  await fixture.service.admin.putResources([GRAFANA_APP], false, 'test');
  const token = await fixture.addBot('robot', ['ops', 'apps']);
  const { signer } = await fixture.join(token);
  return { fixture, signer, id: signer.identity.instance_id };
}

const heartbeat = (
  fixture: Awaited<ReturnType<typeof joined>>['fixture'],
  signer: Awaited<ReturnType<typeof joined>>['signer'],
) => fixture.service.authenticator.authenticate(signer.request(ROUTES.botHeartbeat, {}), { requestId: 'h' });

describe('an operator lock on a bot instance', () => {
  it('refuses every call of the instance with the operator message and the way out, and audits who locked it', async () => {
    const { fixture, signer, id } = await joined();
    const locked = await fixture.service.locks.lock(
      'robot',
      id,
      { message: 'key seen in a public log' },
      OPERATOR,
    );
    expect(locked).toMatchObject({
      status: {
        locked: {
          at: new Date(fixture.clock.now()).toISOString(),
          reason: 'key seen in a public log',
          by: OPERATOR,
        },
      },
    });
    const refusal = {
      code: 'instance_locked_by_operator',
      message: `bot instance robot/${id} was locked by an operator at ${new Date(fixture.clock.now()).toISOString()}: key seen in a public log. An operator lifts it with \`midctl unlock bot_instance/robot/${id}\``,
    };
    await expect(heartbeat(fixture, signer)).rejects.toMatchObject(refusal);
    await expect(renewIdentity(fixture, signer)).rejects.toMatchObject(refusal);
    await expect(
      issueOutput(fixture, signer, { output: 'application', app_name: 'grafana' }),
    ).rejects.toMatchObject(refusal);
    const [lock] = await fixture.service.admin.events({ type: 'bot.lock' });
    expect(lock).toMatchObject({
      outcome: 'success',
      code: 'operator_lock',
      actor: OPERATOR,
      bot: 'robot',
      instance: id,
      message: 'key seen in a public log',
    });
    const refused = await fixture.service.admin.events({ type: 'bot.authenticate' });
    expect(refused.map((event) => event.code)).toEqual([
      'instance_locked_by_operator',
      'instance_locked_by_operator',
      'instance_locked_by_operator',
    ]);
  });

  it('is lifted by unlock: the same identity is accepted again, and the unlock is audited', async () => {
    const { fixture, signer, id } = await joined();
    await fixture.service.locks.lock('robot', id, {}, OPERATOR);
    await expect(heartbeat(fixture, signer)).rejects.toMatchObject({
      message: expect.stringContaining(`: ${DEFAULT_LOCK_MESSAGE}.`),
    });
    const unlocked = await fixture.service.locks.unlock('robot', id, OPERATOR);
    expect((unlocked['status'] as Record<string, unknown>)['locked']).toBeUndefined();
    await expect(heartbeat(fixture, signer)).resolves.toMatchObject({ serialHex: expect.any(String) });
    await expect(renewIdentity(fixture, signer)).resolves.toBeDefined();
    expect(await fixture.service.admin.events({ type: 'bot.unlock' })).toEqual([
      expect.objectContaining({ outcome: 'success', actor: OPERATOR, bot: 'robot', instance: id }),
    ]);
  });

  it('is replaced only when asked (replace), with the replaced lock on record, and answers unlock of an unlocked instance with instance_not_locked', async () => {
    const { fixture, id } = await joined();
    await fixture.service.locks.lock('robot', id, { message: 'first look' }, OPERATOR);
    const firstAt = new Date(fixture.clock.now()).toISOString();
    fixture.clock.advance(60_000);
    await expect(
      fixture.service.locks.lock('robot', id, { message: 'short', ttl_seconds: 1 }, 'admin'),
    ).rejects.toMatchObject({
      code: 'instance_already_locked',
      httpStatus: 409,
      message: `bot instance robot/${id} is already locked, by ${OPERATOR} from ${firstAt}: first look; to put this lock in its place, lock again with replace (midctl lock --replace)`,
    });
    const again = await fixture.service.locks.lock(
      'robot',
      id,
      { message: 'confirmed', replace: true },
      'admin',
    );
    expect(again).toMatchObject({ status: { locked: { reason: 'confirmed', by: 'admin' } } });
    const [replacing] = await fixture.service.admin.events({ type: 'bot.lock' });
    expect(replacing?.message).toBe(
      `confirmed; replaces the lock of ${OPERATOR} from ${firstAt}: first look`,
    );
    expect(await fixture.service.admin.events({ type: 'bot.lock' })).toHaveLength(2);
    await fixture.service.locks.unlock('robot', id, OPERATOR);
    await expect(fixture.service.locks.unlock('robot', id, OPERATOR)).rejects.toMatchObject({
      code: 'instance_not_locked',
      httpStatus: 409,
    });
  });

  it("never lifts or covers the service's own lock (a copy of the identity was used)", async () => {
    const { fixture, signer, id } = await joined();
    await renewIdentity(fixture, signer);
    // The first certificate again, after its renewal: the service locks the instance.
    await expect(renewIdentity(fixture, signer)).rejects.toMatchObject({ code: 'generation_mismatch' });
    const { record } = await fixture.service.context.instances.require('robot', id);
    const serviceLock = record.locked;
    expect(serviceLock?.by).toBeUndefined();

    await expect(fixture.service.locks.unlock('robot', id, OPERATOR)).rejects.toMatchObject({
      code: 'instance_locked_by_service',
      message: expect.stringContaining(`Remove it (\`midctl rm bot_instance/robot/${id}\`)`),
    });
    // Locking it too is refused and changes nothing: no unlock may be offered for it.
    await expect(
      fixture.service.locks.lock('robot', id, { message: 'me too' }, OPERATOR),
    ).rejects.toMatchObject({
      code: 'instance_locked_by_service',
      httpStatus: 409,
      message: expect.stringContaining('and it stays locked as it is'),
    });
    expect((await fixture.service.context.instances.require('robot', id)).record.locked).toEqual(serviceLock);
    expect(
      (await fixture.service.admin.events({ type: 'bot.lock' })).filter(
        (event) => event.code === 'operator_lock',
      ),
    ).toEqual([]);
  });

  it('gives way to the service lock when a copy of the identity shows up while an operator has it locked', async () => {
    const { fixture, signer, id } = await joined();
    await renewIdentity(fixture, signer);
    await fixture.service.locks.lock('robot', id, { message: 'investigating' }, OPERATOR);
    // The first certificate again, after its renewal, during the operator's investigation.
    await expect(renewIdentity(fixture, signer)).rejects.toMatchObject({ code: 'generation_mismatch' });
    const { record } = await fixture.service.context.instances.require('robot', id);
    expect(record.locked?.by).toBeUndefined();
    expect(record.locked?.reason).toMatch(/^a certificate of generation 1 was used after generation 2/);
    expect((await fixture.service.admin.events({ type: 'bot.lock' })).map((event) => event.code)).toEqual([
      'generation_mismatch',
      'operator_lock',
    ]);
    await expect(fixture.service.locks.unlock('robot', id, OPERATOR)).rejects.toMatchObject({
      code: 'instance_locked_by_service',
    });
  });

  it('keeps the lock it lifted in the unlock record', async () => {
    const { fixture, id } = await joined();
    await fixture.service.locks.lock('robot', id, { message: 'first look' }, OPERATOR);
    const lockedAt = new Date(fixture.clock.now()).toISOString();
    fixture.clock.advance(60_000);
    await fixture.service.locks.unlock('robot', id, 'admin');
    const [unlock] = await fixture.service.admin.events({ type: 'bot.unlock' });
    expect(unlock).toMatchObject({
      actor: 'admin',
      message: `lifted the lock of ${OPERATOR} from ${lockedAt}: first look`,
    });
  });

  it('names an instance that does not exist', async () => {
    const { fixture } = await joined();
    for (const act of [
      () => fixture.service.locks.lock('robot', 'no-such-id', {}, OPERATOR),
      () => fixture.service.locks.unlock('robot', 'no-such-id', OPERATOR),
      () => fixture.service.locks.lock('nobody', 'no-such-id', {}, OPERATOR),
    ]) {
      await expect(act()).rejects.toMatchObject({ code: 'instance_not_found', httpStatus: 404 });
    }
  });

  it('leaves the bot free to join again as a new instance with a new token (the lock is on one instance)', async () => {
    const { fixture, id } = await joined();
    await fixture.service.locks.lock('robot', id, {}, OPERATOR);
    const token = await fixture.service.admin.addToken('robot', undefined, 'test');
    const { identity } = await fixture.join(token.metadata.name);
    expect(identity.instance_id).not.toBe(id);
  });
});
