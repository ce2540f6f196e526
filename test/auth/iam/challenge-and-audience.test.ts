import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  checkChallengeTtl,
  consumeJoinChallenge,
  issueJoinChallenge,
  MAX_CHALLENGE_TTL_MS,
} from '../../../lib/auth/iam/join-challenges.js';
import { MemoryBackend } from '../../../lib/auth/storage/memory-backend.js';
import { SqliteBackend } from '../../../lib/auth/storage/sqlite-backend.js';
import { ManualClock } from '../../../lib/core/clock.js';
import type { Random } from '../../../lib/core/random.js';
import { expectRefused } from './expect-refusal.js';
import { createIamFixture, type IamFixture, replacingHeader, withoutHeader } from './iam-fixture.js';

let fixture: IamFixture;
const cleanups: Array<() => void> = [];
afterEach(async () => {
  await fixture?.close();
  for (const cleanup of cleanups.splice(0)) cleanup();
});

describe('the join challenge', () => {
  it('is at least 32 random bytes, unique, and lives two minutes by default', async () => {
    fixture = await createIamFixture();
    const first = await issueJoinChallenge(fixture.service.context);
    const second = await issueJoinChallenge(fixture.service.context);
    expect(Buffer.from(first.challenge, 'base64url')).toHaveLength(32);
    expect(first.challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(second.challenge).not.toBe(first.challenge);
    expect(Date.parse(first.expires_at) - fixture.clock.now()).toBe(2 * 60_000);
  });

  it('takes all 32 of its bytes from the random source, none of them fixed', async () => {
    const clock = new ManualClock(Date.parse('2030-01-01T00:00:00Z'));
    const random: Random = { bytes: (length) => Buffer.alloc(length, 0xa5) };
    const issued = await issueJoinChallenge({ storage: new MemoryBackend(clock), clock, random });
    expect(Buffer.from(issued.challenge, 'base64url')).toEqual(Buffer.alloc(32, 0xa5));
  });

  it('refuses a configured lifetime over five minutes (or under a second)', () => {
    expect(() => checkChallengeTtl(MAX_CHALLENGE_TTL_MS + 1)).toThrow(/at most|1 s to 300 s/);
    expect(() => checkChallengeTtl(0)).toThrow(/1 s to 300 s/);
    expect(checkChallengeTtl(MAX_CHALLENGE_TTL_MS)).toBe(MAX_CHALLENGE_TTL_MS);
  });

  it('refuses a signed request without a challenge header', async () => {
    fixture = await createIamFixture();
    const signed = await fixture.signFor({ challenge: null });
    await expectRefused(fixture, fixture.join(signed), 'challenge_missing', { stsRequests: 0 });
  });

  it('refuses a challenge that the signature does not cover', async () => {
    fixture = await createIamFixture();
    const signed = await fixture.signFor({ unsignable: ['x-mid-challenge'] });
    await expectRefused(fixture, fixture.join(signed), 'challenge_not_signed', { stsRequests: 0 });
  });

  it('refuses a challenge the service never issued, well-formed or not', async () => {
    fixture = await createIamFixture();
    const forged = Buffer.alloc(32, 7).toString('base64url');
    await expectRefused(
      fixture,
      fixture.join(await fixture.signFor({ challenge: forged })),
      'challenge_unknown',
      {
        stsRequests: 0,
      },
    );
    await expectRefused(
      fixture,
      fixture.join(await fixture.signFor({ challenge: 'hello' })),
      'challenge_unknown',
      {
        stsRequests: 0,
      },
    );
  });

  it('refuses a challenge swapped after signing: the signature is still over the old one', async () => {
    fixture = await createIamFixture();
    const signed = await fixture.sign();
    const swapped = replacingHeader(signed, 'x-mid-challenge', await fixture.challenge());
    // The checks pass (the swapped challenge is real and unused), so STS is what refuses it.
    await expectRefused(fixture, fixture.join(swapped), 'sts_denied', {
      stsRequests: 1,
      message: 'SignatureDoesNotMatch',
    });
  });

  it('refuses an expired challenge without calling STS', async () => {
    fixture = await createIamFixture();
    const signed = await fixture.sign();
    fixture.clock.advance(2 * 60_000);
    await expectRefused(fixture, fixture.join(signed), 'challenge_expired', {
      stsRequests: 0,
      message: 'expired at',
    });
  });

  it('accepts a challenge until the moment it expires', async () => {
    fixture = await createIamFixture();
    const signed = await fixture.sign();
    fixture.clock.advance(2 * 60_000 - 1);
    await expect(fixture.join(signed)).resolves.toMatchObject({ bot_name: 'robot' });
  });

  it('refuses a replayed signed request without calling STS again', async () => {
    fixture = await createIamFixture();
    const signed = await fixture.sign();
    await fixture.join(signed);
    await expectRefused(fixture, fixture.join(signed), 'challenge_replayed', { stsRequests: 1 });
  });

  it('spends the challenge even when STS then refuses, so the request cannot be tried again', async () => {
    fixture = await createIamFixture();
    const signed = await fixture.sign();
    fixture.emulator.setFault({ kind: 'status', status: 503, times: 1 });
    await expectRefused(fixture, fixture.join(signed), 'sts_unavailable', { stsRequests: 1 });
    await expectRefused(fixture, fixture.join(signed), 'challenge_replayed', { stsRequests: 1 });
  });

  it('consumes a challenge exactly once when asked directly', async () => {
    fixture = await createIamFixture();
    const { challenge } = await issueJoinChallenge(fixture.service.context);
    await consumeJoinChallenge(fixture.service.context, challenge);
    await expect(consumeJoinChallenge(fixture.service.context, challenge)).rejects.toMatchObject({
      code: 'challenge_replayed',
    });
  });

  describe.each([
    ['memory', undefined],
    [
      'sqlite',
      (clock: ManualClock) => {
        const dir = mkdtempSync(join(tmpdir(), 'mid-iam-race-'));
        cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
        return SqliteBackend.open(join(dir, 'state.db'), { clock });
      },
    ],
  ])('under concurrency on the %s backend', (_name, storage) => {
    it('lets exactly one of two parallel submissions of one signed request through to STS', async () => {
      fixture = await createIamFixture(storage === undefined ? {} : { storage });
      const signed = await fixture.sign();
      const results = await Promise.allSettled([fixture.join(signed), fixture.join(signed)]);

      expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
      const refused = results.find((result) => result.status === 'rejected');
      expect(refused?.status === 'rejected' && refused.reason).toMatchObject({ code: 'challenge_replayed' });
      expect(fixture.emulator.requests).toHaveLength(1);
      const events = await fixture.service.admin.events({ type: 'bot.join' });
      expect(events.map((event) => `${event.outcome}:${event.code ?? ''}`).sort()).toEqual([
        'failure:challenge_replayed',
        'success:',
      ]);
    });
  });

  it('lets exactly one of 100 parallel submissions through on the memory backend', async () => {
    fixture = await createIamFixture();
    const signed = await fixture.sign();
    const results = await Promise.allSettled(Array.from({ length: 100 }, () => fixture.join(signed)));

    expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
    const codes = results.flatMap((result) => (result.status === 'rejected' ? [result.reason.code] : []));
    expect(new Set(codes)).toEqual(new Set(['challenge_replayed']));
    expect(codes).toHaveLength(99);
    expect(fixture.emulator.requests).toHaveLength(1);
    expect(await fixture.service.context.instances.list('robot')).toHaveLength(1);
  });
});

describe('the audience of an iam join', () => {
  it('refuses a signed request without the cluster name header', async () => {
    fixture = await createIamFixture();
    const signed = await fixture.signFor({ clusterName: null });
    await expectRefused(fixture, fixture.join(signed), 'audience_missing', { stsRequests: 0 });
  });

  it('refuses a cluster name that the signature does not cover', async () => {
    fixture = await createIamFixture();
    const signed = await fixture.signFor({ unsignable: ['x-mid-cluster-name'] });
    await expectRefused(fixture, fixture.join(signed), 'audience_not_signed', { stsRequests: 0 });
  });

  it("refuses a request signed for another cluster's name", async () => {
    fixture = await createIamFixture();
    const signed = await fixture.signFor({ clusterName: 'other.example' });
    await expectRefused(fixture, fixture.join(signed), 'audience_mismatch', {
      stsRequests: 0,
      message: 'other.example',
    });
  });

  it('refuses a cluster name that differs only in case', async () => {
    fixture = await createIamFixture();
    const signed = await fixture.signFor({ clusterName: 'EXAMPLE.test' });
    await expectRefused(fixture, fixture.join(signed), 'audience_mismatch', { stsRequests: 0 });
  });

  it("refuses another cluster's name that starts with this cluster's", async () => {
    fixture = await createIamFixture();
    const signed = await fixture.signFor({ clusterName: 'example.testing' });
    await expectRefused(fixture, fixture.join(signed), 'audience_mismatch', { stsRequests: 0 });
  });

  it('refuses a cluster name removed after signing', async () => {
    fixture = await createIamFixture();
    const signed = withoutHeader(await fixture.sign(), 'x-mid-cluster-name');
    await expectRefused(fixture, fixture.join(signed), 'audience_missing', { stsRequests: 0 });
  });
});
