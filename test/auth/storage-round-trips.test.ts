import { afterEach, describe, expect, it } from 'vitest';
import type { OutputCertificatesRequest } from '../../lib/api/output-certificates.js';
import { ROUTES } from '../../lib/api/routes.js';
import type { BotInstanceRecord } from '../../lib/auth/bot-instance-store.js';
import { outputReadsAhead } from '../../lib/auth/output-issuance.js';
import { MemoryBackend } from '../../lib/auth/storage/memory-backend.js';
import type { ItemInput } from '../../lib/auth/storage/storage-backend.js';
import { ManualClock } from '../../lib/core/clock.js';
import { CountingBackend } from '../support/counting-backend.js';
import {
  createFixture,
  type Fixture,
  GRAFANA_APP,
  issueOutput,
  newPublicKeyPem,
  renewIdentity,
  type Signer,
  START,
} from './auth-fixture.js';
import { createIamFixture, type IamFixture } from './iam/iam-fixture.js';

/**
 * What each request costs in storage round trips, on a backend that counts them: the calls (DynamoDB
 * requests, each billed and throttled) and the waves, calls that had to wait for the previous wave to
 * answer (the latency a bot sees: each wave is a round trip, several ms on DynamoDB).
 *
 * The waves are asserted whole, so that any change in a request's I/O shows up here. Their order is
 * also what the guarantees rest on: the bot and roles are found before a token is spent (a challenge,
 * cheap to get again, is spent while the roles are read), the challenge is spent before STS is asked, the nonce is spent before anything is checked or written,
 * the instance is written before the audit record, and the audit record before the answer.
 *
 * Before these were cut (same requests, same fixtures): token join 10 calls in 8 waves, renewal 7 in
 * 6, an output 7 in 6, heartbeat 5 in 5, iam join 11–13 in 11–13.
 */

const HEARTBEAT = {
  hostname: 'ci-1',
  version: '0.1.0',
  uptime_seconds: 5,
  one_shot: true,
  outputs_written: 2,
};

async function tokenFixture(storage?: (clock: ManualClock) => MemoryBackend) {
  const clock = new ManualClock(START);
  const counter = new CountingBackend(storage?.(clock) ?? new MemoryBackend(clock));
  const fixture = await createFixture(counter, clock);
  await fixture.service.admin.putResources([GRAFANA_APP], false, 'test');
  const token = await fixture.addBot('robot', ['ops', 'apps']);
  return { fixture, counter, token };
}

/** Runs one request on a fresh count and gives its cost. No item may be read twice by one request. */
async function measure(counter: CountingBackend, request: () => Promise<unknown>) {
  counter.reset();
  await request();
  const reads = counter
    .calls()
    .filter((call) => call.operation === 'get')
    .map((call) => call.key);
  expect(reads.filter((key, index) => reads.indexOf(key) !== index)).toEqual([]);
  return { calls: counter.calls().length, depth: counter.depth(), waves: counter.waves() };
}

async function heartbeat(fixture: Fixture, signer: Signer) {
  const caller = await fixture.service.authenticator.authenticate(
    signer.request(ROUTES.botHeartbeat, HEARTBEAT),
    { requestId: 't' },
  );
  await fixture.service.heartbeat(caller, HEARTBEAT);
}

/** The bot's signed calls all start with one wave: the nonce spent while the bot and instance are read. */
const AUTHENTICATION = ['create nonces', 'get bot_locks', 'get bots/robot', 'get instances/robot'];
/**
 * The bot's roles and the locks on them. A renewal or an output reads them ahead, with the caller: its
 * certificate names them, and the bot record read alongside says whether it still holds them.
 */
const ROLES = ['get role_locks', 'get role_locks', 'get roles/apps', 'get roles/ops'];

describe('storage round trips per request', () => {
  it('a token join: 11 calls in 7 waves, the roles and their locks read once, before the token is spent', async () => {
    const { fixture, counter, token } = await tokenFixture();

    const cost = await measure(counter, () => fixture.join(token));

    expect(cost.waves).toEqual([
      ['get tokens'],
      ['get bot_locks', 'get bots/robot'],
      ['get role_locks', 'get role_locks', 'get roles/apps', 'get roles/ops'],
      ['put consumed_tokens'],
      ['delete tokens'],
      ['create instances/robot'],
      ['put events'],
    ]);
    expect(cost).toMatchObject({ calls: 11, depth: 7 });
  });

  it('a renewal: 10 calls in 3 waves, the roles its certificate names read with the caller, swapping the instance at the revision the authenticator read', async () => {
    const { fixture, counter, token } = await tokenFixture();
    const { signer } = await fixture.join(token);

    const cost = await measure(counter, () => renewIdentity(fixture, signer));

    expect(cost.waves).toEqual([
      [...AUTHENTICATION, ...ROLES].sort(),
      ['compareAndSwap instances/robot'],
      ['put events'],
    ]);
    expect(cost).toMatchObject({ calls: 10, depth: 3 });
  });

  it('an output: 10 calls in 2 waves, the roles and their locks, the app or the node list read with the caller', async () => {
    const { fixture, counter, token } = await tokenFixture();
    const { signer } = await fixture.join(token);

    const identity = await measure(counter, () => issueOutput(fixture, signer, { output: 'identity' }));
    const application = await measure(counter, () =>
      issueOutput(fixture, signer, { output: 'application', app_name: 'grafana' }),
    );

    expect(identity.waves).toEqual([[...AUTHENTICATION, ...ROLES, 'list nodes'].sort(), ['put events']]);
    expect(identity).toMatchObject({ calls: 10, depth: 2 });
    expect(application.waves).toEqual([
      [...AUTHENTICATION, ...ROLES, 'get apps/grafana'].sort(),
      ['put events'],
    ]);
    expect(application).toMatchObject({ calls: 10, depth: 2 });
  });

  it('a batch of outputs: the waves of one output, the roles and locks they share read once', async () => {
    const { fixture, counter, token } = await tokenFixture();
    const { signer } = await fixture.join(token);
    const requests: OutputCertificatesRequest[] = [
      { output: 'identity', public_key: newPublicKeyPem() },
      { output: 'application', app_name: 'grafana', public_key: newPublicKeyPem() },
      { output: 'application', app_name: 'grafana', public_key: newPublicKeyPem(), roles: ['apps'] },
    ];

    const cost = await measure(counter, async () => {
      const caller = await fixture.service.authenticator.authenticate(
        signer.request(ROUTES.botCertificatesBatch, { outputs: requests }),
        { requestId: 't' },
        (reads, roles) => outputReadsAhead(reads, roles, requests),
      );
      const results = await fixture.service.outputs.issueAll(caller, requests, { requestId: 't' });
      expect(results.every((result) => 'certificates' in result)).toBe(true);
    });

    expect(cost.waves).toEqual([
      [...AUTHENTICATION, ...ROLES, 'get apps/grafana', 'list nodes'].sort(),
      ['put events', 'put events', 'put events'],
    ]);
    expect(cost).toMatchObject({ calls: 13, depth: 2 });
  });

  it('a heartbeat: 5 calls in 2 waves, without reading the instance again', async () => {
    const { fixture, counter, token } = await tokenFixture();
    const { signer } = await fixture.join(token);

    const cost = await measure(counter, () => heartbeat(fixture, signer));

    expect(cost.waves).toEqual([AUTHENTICATION, ['compareAndSwap instances/robot']]);
    expect(cost).toMatchObject({ calls: 5, depth: 2 });
  });

  describe('iam joins', () => {
    let iam: IamFixture;
    let counter: CountingBackend;
    afterEach(async () => {
      await iam?.close();
    });

    async function iamFixture() {
      iam = await createIamFixture({
        storage: (clock) => {
          counter = new CountingBackend(new MemoryBackend(clock));
          return counter;
        },
      });
    }

    /** The challenge is read with the token; the bot once the token names it. */
    const ADMISSION = [
      ['get iam_challenges', 'get tokens'],
      ['get bot_locks', 'get bots/robot'],
    ];
    /**
     * The roles and their locks are read while the challenge is spent (one compare-and-swap that marks it used): a
     * challenge costs the bot nothing to get again. STS is asked once both are done.
     */
    const ROLES_AND_SPENDING = ['compareAndSwap iam_challenges', 'get role_locks', 'get roles/ops'];

    it('a first iam join: 11 calls in 6 waves, the instance and its ARN index written at once', async () => {
      await iamFixture();
      const signed = await iam.sign();

      const cost = await measure(counter, () => iam.join(signed));

      expect(cost.waves).toEqual([
        ...ADMISSION,
        ROLES_AND_SPENDING,
        ['get iam_instances'],
        ['create instances/robot', 'put iam_instances'],
        ['put events'],
      ]);
      expect(cost).toMatchObject({ calls: 11, depth: 6 });
    });

    it('an iam join found by its ARN: 11 calls in 7 waves, the instance read once', async () => {
      await iamFixture();
      await iam.join(await iam.sign());
      const signed = await iam.sign();

      const cost = await measure(counter, () => iam.join(signed));

      expect(cost.waves).toEqual([
        ...ADMISSION,
        ROLES_AND_SPENDING,
        ['get iam_instances'],
        ['get instances/robot'],
        ['compareAndSwap instances/robot'],
        ['put events'],
      ]);
      expect(cost).toMatchObject({ calls: 11, depth: 7 });
    });

    it('an iam join presenting its previous certificate (a warm Lambda run): 10 calls in 4 waves, the first reads at once', async () => {
      await iamFixture();
      const first = await iam.join(await iam.sign());
      const signed = await iam.sign();

      const cost = await measure(counter, () => iam.join(signed, { previous_certificate: first.tls_cert }));

      // The certificate names the bot and the instance: both are read with the token and the challenge.
      expect(cost.waves).toEqual([
        ['get bot_locks', 'get bots/robot', 'get iam_challenges', 'get instances/robot', 'get tokens'],
        ROLES_AND_SPENDING,
        ['compareAndSwap instances/robot'],
        ['put events'],
      ]);
      expect(cost).toMatchObject({ calls: 10, depth: 4 });
    });

    it('a challenge: 1 call', async () => {
      await iamFixture();
      const cost = await measure(counter, () => iam.challenge());
      expect(cost).toMatchObject({ calls: 1, depth: 1 });
    });
  });
});

/**
 * A memory backend that, right before the first swap of an instance record, lets another writer
 * change that record: what a request read is then stale, as when two requests for one instance overlap.
 */
class InterferingBackend extends MemoryBackend {
  interfere: ((record: BotInstanceRecord) => BotInstanceRecord) | undefined;

  override async compareAndSwap(item: ItemInput, expectedRevision: string) {
    const change = this.interfere;
    if (change !== undefined && item.key.startsWith('instances/')) {
      this.interfere = undefined;
      const current = await this.get(item.key);
      if (current !== undefined) {
        await this.put({ key: item.key, value: JSON.stringify(change(JSON.parse(current.value))) });
      }
    }
    return super.compareAndSwap(item, expectedRevision);
  }
}

describe('working from what a request already read', () => {
  it('records a heartbeat on the newer record when the instance changed since it was read', async () => {
    let storage: InterferingBackend | undefined;
    const { fixture, token } = await tokenFixture((clock) => {
      storage = new InterferingBackend(clock);
      return storage;
    });
    const { signer } = await fixture.join(token);
    const earlier = { ...HEARTBEAT, recorded_at: new Date(START).toISOString(), hostname: 'earlier' };
    (storage as InterferingBackend).interfere = (record) => ({
      ...record,
      latest_heartbeats: [...record.latest_heartbeats, earlier],
    });

    await heartbeat(fixture, signer);

    const [record] = await fixture.service.context.instances.list('robot');
    expect(record?.latest_heartbeats.map((beat) => beat.hostname)).toEqual(['earlier', 'ci-1']);
  });

  it('refuses an iam join whose instance was locked after it was read, and audits the refusal', async () => {
    let storage: InterferingBackend | undefined;
    const iam = await createIamFixture({
      storage: (clock) => {
        storage = new InterferingBackend(clock);
        return storage;
      },
    });
    try {
      const first = await iam.join(await iam.sign());
      (storage as InterferingBackend).interfere = (record) => ({
        ...record,
        locked: { at: new Date(START).toISOString(), reason: 'locked by an operator' },
      });

      await expect(
        iam.join(await iam.sign(), { previous_certificate: first.tls_cert }),
      ).rejects.toMatchObject({ code: 'instance_locked' });

      const [record] = await iam.service.context.instances.list('robot');
      expect(record).toMatchObject({ generation: 1, current_serial: first.serial });
      expect(await iam.lastJoinEvent()).toMatchObject({ outcome: 'failure', code: 'instance_locked' });
    } finally {
      await iam.close();
    }
  });

  it('locks a renewable instance when a stale generation is presented, whatever was read before', async () => {
    const { fixture, token } = await tokenFixture();
    const { signer } = await fixture.join(token);
    await renewIdentity(fixture, signer);

    await expect(heartbeat(fixture, signer)).rejects.toMatchObject({ code: 'generation_mismatch' });

    const [record] = await fixture.service.context.instances.list('robot');
    expect(record?.locked?.reason).toContain('generation 1 was used after generation 2');
  });
});
