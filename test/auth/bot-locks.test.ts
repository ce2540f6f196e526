import { describe, expect, it } from 'vitest';
import { ROUTES } from '../../lib/api/routes.js';
import { listLocks } from '../../lib/auth/lock-listing.js';
import { DEFAULT_LOCK_MESSAGE } from '../../lib/auth/operator-lock.js';
import { MemoryBackend } from '../../lib/auth/storage/memory-backend.js';
import { ManualClock } from '../../lib/core/clock.js';
import { createFixture, GRAFANA_APP, issueOutput, renewIdentity, START } from './auth-fixture.js';

const OPERATOR = 'arn:aws:iam::123456789012:user/oncall';

/** A fixture whose storage follows the service's clock, so that locks expire as the clock moves. */
async function lockable() {
  const clock = new ManualClock(START);
  const fixture = await createFixture(new MemoryBackend(clock), clock);
  await fixture.service.admin.putResources([GRAFANA_APP], false, 'test');
  const first = await fixture.join(await fixture.addBot('robot', ['ops', 'apps']));
  const second = await fixture.join(
    (await fixture.service.admin.addToken('robot', undefined, 'test')).metadata.name,
  );
  return { fixture, signers: [first.signer, second.signer] };
}

type Fixture = Awaited<ReturnType<typeof lockable>>['fixture'];
type Signer = Awaited<ReturnType<typeof lockable>>['signers'][number];

const heartbeat = (fixture: Fixture, signer: Signer) =>
  fixture.service.authenticator.authenticate(signer.request(ROUTES.botHeartbeat, {}), { requestId: 'h' });

const now = (fixture: Fixture) => new Date(fixture.clock.now()).toISOString();

describe('an operator lock on a whole bot', () => {
  it('refuses every call of every instance of the bot with the operator message, and audits who locked it', async () => {
    const { fixture, signers } = await lockable();
    const lock = await fixture.service.botLocks.lock('robot', { message: 'CI runner compromised' }, OPERATOR);
    expect(lock).toEqual({ bot: 'robot', at: now(fixture), reason: 'CI runner compromised', by: OPERATOR });
    const refusal = {
      code: 'bot_locked',
      httpStatus: 403,
      message: `bot "robot" was locked by an operator at ${now(fixture)}: CI runner compromised. An operator lifts it with \`midctl unlock bot/robot\``,
    };
    for (const signer of signers) {
      await expect(heartbeat(fixture, signer)).rejects.toMatchObject(refusal);
      await expect(renewIdentity(fixture, signer)).rejects.toMatchObject(refusal);
      await expect(
        issueOutput(fixture, signer, { output: 'application', app_name: 'grafana' }),
      ).rejects.toMatchObject(refusal);
    }
    const [locked] = await fixture.service.admin.events({ type: 'bot.lock' });
    expect(locked).toMatchObject({
      outcome: 'success',
      code: 'operator_lock',
      actor: OPERATOR,
      bot: 'robot',
      message: 'CI runner compromised',
    });
    expect(locked?.instance).toBeUndefined();
    const refused = await fixture.service.admin.events({ type: 'bot.authenticate' });
    expect(refused.map((event) => event.code)).toEqual(Array(6).fill('bot_locked'));
  });

  it('refuses a join for the bot without spending the token, which joins once the lock is lifted', async () => {
    const { fixture } = await lockable();
    const token = (await fixture.service.admin.addToken('robot', undefined, 'test')).metadata.name;
    await fixture.service.botLocks.lock('robot', {}, OPERATOR);
    await expect(fixture.join(token)).rejects.toMatchObject({
      code: 'bot_locked',
      message: expect.stringMatching(
        /: no reason given\. An operator lifts it with .*; the join token was not used$/,
      ),
    });
    expect(await fixture.service.context.resources.get('token', token)).toBeDefined();
    await fixture.service.botLocks.unlock('robot', 'admin');
    await expect(fixture.join(token)).resolves.toMatchObject({ identity: { bot_name: 'robot' } });
  });

  it('is lifted by unlock: the same identities are accepted again, and the unlock records the lock it lifted', async () => {
    const { fixture, signers } = await lockable();
    await fixture.service.botLocks.lock('robot', { message: 'first look' }, OPERATOR);
    const lockedAt = now(fixture);
    fixture.clock.advance(60_000);
    await expect(fixture.service.botLocks.unlock('robot', 'admin')).resolves.toMatchObject({ by: OPERATOR });
    for (const signer of signers) await expect(heartbeat(fixture, signer)).resolves.toBeDefined();
    const [unlock] = await fixture.service.admin.events({ type: 'bot.unlock' });
    expect(unlock).toMatchObject({
      outcome: 'success',
      actor: 'admin',
      bot: 'robot',
      message: `lifted the lock of ${OPERATOR} from ${lockedAt}: first look`,
    });
    await expect(fixture.service.botLocks.unlock('robot', 'admin')).rejects.toMatchObject({
      code: 'bot_not_locked',
      httpStatus: 409,
      message: 'bot "robot" is not locked',
    });
  });

  it('lifts by itself at the end of its --ttl, and says until when in each refusal', async () => {
    const { fixture, signers } = await lockable();
    const [signer] = signers as [Signer];
    const lock = await fixture.service.botLocks.lock('robot', { ttl_seconds: 1800 }, OPERATOR);
    const until = new Date(fixture.clock.now() + 1_800_000).toISOString();
    expect(lock.expires).toBe(until);
    await expect(heartbeat(fixture, signer)).rejects.toMatchObject({
      message: `bot "robot" was locked by an operator at ${now(fixture)}: no reason given. It lifts by itself at ${until}, or an operator lifts it with \`midctl unlock bot/robot\``,
    });
    fixture.clock.advance(1_799_000);
    await expect(heartbeat(fixture, signer)).rejects.toMatchObject({ code: 'bot_locked' });
    fixture.clock.advance(1_000);
    await expect(heartbeat(fixture, signer)).resolves.toBeDefined();
    expect(await fixture.service.botLocks.list()).toEqual([]);
    const [locked] = await fixture.service.admin.events({ type: 'bot.lock' });
    expect(locked?.message).toBe(`no reason given (until ${until})`);
  });

  it('lifts by itself at its --expires time, and refuses a time already past or both lifetimes at once', async () => {
    const { fixture, signers } = await lockable();
    const [signer] = signers as [Signer];
    const expires = new Date(fixture.clock.now() + 60_000).toISOString();
    await fixture.service.botLocks.lock('robot', { expires }, OPERATOR);
    await expect(heartbeat(fixture, signer)).rejects.toMatchObject({ code: 'bot_locked' });
    fixture.clock.advance(60_000);
    await expect(heartbeat(fixture, signer)).resolves.toBeDefined();
    await expect(
      fixture.service.botLocks.lock(
        'robot',
        { expires: new Date(fixture.clock.now()).toISOString() },
        OPERATOR,
      ),
    ).rejects.toMatchObject({ code: 'invalid_lock_lifetime', httpStatus: 400 });
    await expect(
      fixture.service.botLocks.lock('robot', { ttl_seconds: 60, expires: '2100-01-01T00:00:00Z' }, OPERATOR),
    ).rejects.toMatchObject({ code: 'invalid_lock_lifetime' });
    expect(await fixture.service.admin.events({ type: 'bot.lock' })).toHaveLength(1);
  });

  it("is replaced only when asked (replace): a shorter lock cannot lift a colleague's unnoticed", async () => {
    const { fixture, signers } = await lockable();
    await fixture.service.botLocks.lock('robot', { message: 'incident 7' }, OPERATOR);
    const firstAt = now(fixture);
    await expect(
      fixture.service.botLocks.lock('robot', { message: 'brief', ttl_seconds: 1 }, 'admin'),
    ).rejects.toMatchObject({
      code: 'bot_already_locked',
      httpStatus: 409,
      message: `bot "robot" is already locked, by ${OPERATOR} from ${firstAt}: incident 7; to put this lock in its place, lock again with replace (midctl lock --replace)`,
    });
    await fixture.service.botLocks.lock(
      'robot',
      { message: 'confirmed', ttl_seconds: 60, replace: true },
      'admin',
    );
    await expect(heartbeat(fixture, signers[0] as Signer)).rejects.toMatchObject({
      message: expect.stringContaining(': confirmed. It lifts by itself at'),
    });
    const [replacing] = await fixture.service.admin.events({ type: 'bot.lock' });
    expect(replacing?.message).toMatch(/^confirmed \(until \S+\); replaces the lock of .+: incident 7$/);
    fixture.clock.advance(60_000);
    await expect(heartbeat(fixture, signers[0] as Signer)).resolves.toBeDefined();
  });

  it('still catches a copy of an identity while the bot is locked: the instance is locked for good', async () => {
    const { fixture, signers } = await lockable();
    const [signer] = signers as [Signer];
    const renewed = await renewIdentity(fixture, signer);
    await fixture.service.botLocks.lock('robot', {}, OPERATOR);
    // The certificate before the renewal, used again: a copy.
    await expect(heartbeat(fixture, signer)).rejects.toMatchObject({ code: 'generation_mismatch' });
    await fixture.service.botLocks.unlock('robot', OPERATOR);
    const instance = await fixture.service.context.instances.get('robot', renewed.identity.instance_id);
    expect(instance?.record.locked).toMatchObject({ reason: expect.stringContaining('generation') });
  });

  it('names a bot that does not exist, and goes when the bot is removed', async () => {
    const { fixture } = await lockable();
    await expect(fixture.service.botLocks.lock('nobody', {}, OPERATOR)).rejects.toMatchObject({
      code: 'bot_not_found',
      httpStatus: 404,
    });
    await fixture.service.botLocks.lock('robot', {}, OPERATOR);
    await fixture.service.admin.deleteResource('bot', 'robot', undefined, 'test');
    const token = await fixture.addBot('robot', ['ops']);
    await expect(fixture.join(token)).resolves.toBeDefined();
    expect(await fixture.service.botLocks.list()).toEqual([]);
  });
});

describe('bot locks racing other operators', () => {
  it('drops a lock written while its bot was being removed, so that a bot made again under the name starts unlocked', async () => {
    const { fixture } = await lockable();
    const create = fixture.storage.create.bind(fixture.storage);
    fixture.storage.create = async (item) => {
      // `bots rm` runs between the lock's check of the bot and its write.
      if (item.key.startsWith('bot_locks/'))
        await fixture.service.admin.deleteResource('bot', 'robot', undefined, 'admin');
      return create(item);
    };
    await expect(fixture.service.botLocks.lock('robot', {}, OPERATOR)).rejects.toMatchObject({
      code: 'bot_not_found',
    });
    expect(await fixture.service.botLocks.list()).toEqual([]);
    expect(await fixture.service.admin.events({ type: 'bot.lock' })).toEqual([]);
    await expect(fixture.join(await fixture.addBot('robot', ['ops']))).resolves.toBeDefined();
  });

  it('audits a lock removed with its bot', async () => {
    const { fixture } = await lockable();
    await fixture.service.botLocks.lock('robot', { message: 'incident 9' }, OPERATOR);
    await fixture.service.admin.deleteResource('bot', 'robot', undefined, 'admin');
    const [removed] = await fixture.service.admin.events({ type: 'bot.unlock' });
    expect(removed).toMatchObject({
      actor: 'admin',
      bot: 'robot',
      message: `removed with the bot: the lock of ${OPERATOR} from ${now(fixture)}: incident 9`,
    });
  });

  it('lifts only the lock it read: one put in its place meanwhile is named, and stays', async () => {
    const { fixture } = await lockable();
    await fixture.service.botLocks.lock('robot', { message: 'first' }, OPERATOR);
    const remove = fixture.storage.delete.bind(fixture.storage);
    fixture.storage.delete = async (key, revision) => {
      fixture.storage.delete = remove;
      await fixture.service.botLocks.lock('robot', { message: 'second', replace: true }, 'admin');
      return remove(key, revision);
    };
    await expect(fixture.service.botLocks.unlock('robot', OPERATOR)).rejects.toMatchObject({
      code: 'bot_lock_changed',
      message: expect.stringContaining('was locked again meanwhile (the lock of admin from'),
    });
    expect(await fixture.service.botLocks.find('robot')).toMatchObject({ reason: 'second' });
  });
});

describe('the locks in force', () => {
  it("lists the bots' and the instances' locks, the service's own too, and leaves out those past their expiry", async () => {
    const { fixture, signers } = await lockable();
    const [first, second] = signers as [Signer, Signer];
    const at = now(fixture);
    // The second instance's certificate used again after its renewal: the service locks it.
    await renewIdentity(fixture, second);
    await expect(heartbeat(fixture, second)).rejects.toMatchObject({ code: 'generation_mismatch' });
    await fixture.service.botLocks.lock('robot', { message: 'incident 3' }, OPERATOR);
    await fixture.service.locks.lock('robot', first.identity.instance_id, { ttl_seconds: 60 }, 'admin');
    const locks = await listLocks(fixture.service.context);
    expect(locks).toEqual(
      expect.arrayContaining([
        { target: 'bot/robot', at, reason: 'incident 3', by: OPERATOR },
        {
          target: `bot_instance/robot/${first.identity.instance_id}`,
          at,
          reason: DEFAULT_LOCK_MESSAGE,
          by: 'admin',
          expires: new Date(fixture.clock.now() + 60_000).toISOString(),
        },
        {
          target: `bot_instance/robot/${second.identity.instance_id}`,
          at,
          reason: expect.stringContaining('generation'),
        },
      ]),
    );
    expect(locks).toHaveLength(3);
    fixture.clock.advance(60_000);
    expect((await listLocks(fixture.service.context)).map((lock) => lock.target)).toEqual([
      'bot/robot',
      `bot_instance/robot/${second.identity.instance_id}`,
    ]);
  });
  it("shows a bot's lock on each of its instances, listed or fetched, until it lifts", async () => {
    const { fixture, signers } = await lockable();
    const [first] = signers as [Signer];
    const id = first.identity.instance_id;
    await fixture.service.botLocks.lock('robot', { message: 'incident 4', ttl_seconds: 60 }, OPERATOR);
    const expires = new Date(fixture.clock.now() + 60_000).toISOString();
    const botLocked = { at: now(fixture), reason: 'incident 4', by: OPERATOR, expires };
    const statuses = async (...names: string[]) =>
      (await fixture.service.admin.getResources('bot_instance', ...names)).map(
        (instance) => (instance['status'] as { bot_locked?: unknown }).bot_locked,
      );
    expect(await statuses()).toEqual([botLocked, botLocked]);
    expect(await statuses('robot')).toEqual([botLocked, botLocked]);
    expect(await statuses('robot', id)).toEqual([botLocked]);
    fixture.clock.advance(60_000);
    expect(await statuses('robot')).toEqual([undefined, undefined]);
  });
});

describe('a bot instance lock with a lifetime', () => {
  it('lifts by itself at the end of its --ttl and says until when; unlock then finds nothing to lift', async () => {
    const { fixture, signers } = await lockable();
    const [signer] = signers as [Signer];
    const id = signer.identity.instance_id;
    const locked = await fixture.service.locks.lock(
      'robot',
      id,
      { message: 'look', ttl_seconds: 600 },
      OPERATOR,
    );
    const until = new Date(fixture.clock.now() + 600_000).toISOString();
    expect(locked).toMatchObject({ status: { locked: { reason: 'look', by: OPERATOR, expires: until } } });
    await expect(heartbeat(fixture, signer)).rejects.toMatchObject({
      code: 'instance_locked_by_operator',
      message: expect.stringContaining(
        `at ${now(fixture)}: look. It lifts by itself at ${until}, or an operator`,
      ),
    });
    fixture.clock.advance(600_000);
    await expect(heartbeat(fixture, signer)).resolves.toBeDefined();
    await expect(fixture.service.locks.unlock('robot', id, OPERATOR)).rejects.toMatchObject({
      code: 'instance_not_locked',
    });
    const record = await fixture.service.context.instances.get('robot', id);
    expect(record?.record.locked).toBeUndefined();
  });
});
