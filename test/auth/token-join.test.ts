import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tokenFingerprint } from '../../lib/auth/audit-log.js';
import { MemoryBackend } from '../../lib/auth/storage/memory-backend.js';
import { SqliteBackend } from '../../lib/auth/storage/sqlite-backend.js';
import { ManualClock } from '../../lib/core/clock.js';
import { createFixture, newPublicKeyPem, START } from './auth-fixture.js';

/** Memory storage that runs `interleave` once, when a key under `prefix` is next read, before answering. */
class InterleavingBackend extends MemoryBackend {
  private pending: { prefix: string; interleave: () => Promise<unknown> } | undefined;

  onNextRead(prefix: string, interleave: () => Promise<unknown>): void {
    this.pending = { prefix, interleave };
  }

  override async get(key: string) {
    const pending = this.pending;
    if (pending !== undefined && key.startsWith(pending.prefix)) {
      this.pending = undefined;
      await pending.interleave();
    }
    return super.get(key);
  }
}

describe('joining with a token', () => {
  it('issues a bot identity and records a new bot instance', async () => {
    const fixture = await createFixture();
    const token = await fixture.addBot('robot', ['ops'], ['deploy']);
    const { identity } = await fixture.join(token);
    expect(identity.bot_name).toBe('robot');
    expect(identity.generation).toBe(1);
    expect(identity.renewable).toBe(true);
    const [instance] = await fixture.service.context.instances.list('robot');
    expect(instance?.instance_id).toBe(identity.instance_id);
    expect(instance?.latest_authentications).toHaveLength(1);
  });

  it('refuses a token that was already used', async () => {
    const fixture = await createFixture();
    const token = await fixture.addBot('robot', ['ops']);
    await fixture.join(token);
    await expect(fixture.join(token)).rejects.toMatchObject({
      code: 'token_already_used',
      message: expect.stringContaining('`midctl tokens add --type=bot --bot-name=robot`'),
    });
  });

  it('refuses an expired token and names when it expired', async () => {
    const fixture = await createFixture();
    const token = await fixture.addBot('robot', ['ops']);
    fixture.clock.advance(2 * 3_600_000);
    await expect(fixture.join(token)).rejects.toMatchObject({
      code: 'token_expired',
      message: expect.stringContaining('expired at'),
    });
  });

  it("audits a used or expired token's refusal as its bot's, so that events ls --bot finds it", async () => {
    const fixture = await createFixture();
    const used = await fixture.addBot('robot', ['ops']);
    await fixture.join(used);
    await fixture.join(used).catch(() => undefined);
    await fixture.service.admin.addToken('robot', undefined, 'test');
    const expiring = (await fixture.service.admin.addToken('robot', undefined, 'test')).metadata.name;
    fixture.clock.advance(2 * 3_600_000);
    await fixture.join(expiring).catch(() => undefined);
    const refusals = (await fixture.service.admin.events({ type: 'bot.join', bot: 'robot' })).filter(
      (event) => event.outcome === 'failure',
    );
    expect(refusals.map((event) => event.code)).toEqual(['token_expired', 'token_already_used']);
  });

  it('refuses an unknown token without revealing anything', async () => {
    const fixture = await createFixture();
    await expect(fixture.join('0123456789abcdef0123456789abcdef')).rejects.toMatchObject({
      code: 'token_not_found',
    });
  });

  it('refuses a token whose bot was deleted (and deleting the bot deletes its tokens)', async () => {
    const fixture = await createFixture();
    const token = await fixture.addBot('robot', ['ops']);
    await fixture.service.admin.deleteResource('bot', 'robot', undefined, 'test');
    await expect(fixture.join(token)).rejects.toMatchObject({ code: 'token_not_found' });
  });

  it('refuses a bot whose role is gone without spending its token', async () => {
    const fixture = await createFixture();
    const token = await fixture.addBot('robot', ['ops']);
    const robot = await fixture.service.context.resources.get('bot', 'robot');
    if (robot === undefined) throw new Error('no robot');
    await fixture.service.context.resources.put({
      ...robot.resource,
      spec: { ...robot.resource.spec, roles: ['ops', 'gone'] },
    });
    await expect(fixture.join(token)).rejects.toMatchObject({ code: 'role_not_found' });
    await fixture.service.context.resources.put(robot.resource);
    await expect(fixture.join(token)).resolves.toMatchObject({ identity: { bot_name: 'robot' } });
  });

  it('refuses a token of the iam method presented as a token join', async () => {
    const fixture = await createFixture();
    await fixture.addBot('robot', ['ops']);
    await fixture.service.admin.putResources(
      [
        {
          kind: 'token',
          version: 'v2',
          metadata: { name: 'iam-token' },
          spec: {
            roles: ['Bot'],
            join_method: 'iam',
            bot_name: 'robot',
            allow: [{ aws_account: '111111111111' }],
          },
        },
      ],
      false,
      'test',
    );
    await expect(fixture.join('iam-token')).rejects.toMatchObject({ code: 'join_method_mismatch' });
    // Audited as the bot's, as a used or expired token is, so that events ls --bot finds it.
    const [refused] = await fixture.service.admin.events({ type: 'bot.join', bot: 'robot' });
    expect(refused).toMatchObject({ outcome: 'failure', code: 'join_method_mismatch', bot: 'robot' });
  });

  describe('token resources created from a file (midctl create -f)', () => {
    const secretName = 's3cr3t'.repeat(6);
    const tokenMethod = (metadata: Record<string, unknown>) => ({
      kind: 'token',
      version: 'v2',
      metadata: { name: secretName, ...metadata },
      spec: { roles: ['Bot'], join_method: 'token', bot_name: 'robot' },
    });

    it('refuses a token-method token that never expires, has expired, or lives over 366 days, writing nothing', async () => {
      const fixture = await createFixture();
      await fixture.addBot('robot', ['ops']);
      const at = (ms: number) => new Date(fixture.clock.now() + ms).toISOString();
      const cases: Array<[Record<string, unknown>, string]> = [
        [{}, 'token_expiry_required'],
        [{ expires: at(-1_000) }, 'token_expired'],
        [{ expires: at(367 * 86_400_000) }, 'token_lifetime_too_long'],
      ];
      for (const [metadata, code] of cases) {
        const error = await fixture.service.admin
          .putResources([tokenMethod(metadata)], false, 'test')
          .catch((caught: unknown) => caught);
        expect(error).toMatchObject({
          code,
          message: expect.stringMatching(/^resources\[0\]: token \(name hidden\): metadata\.expires: got /),
        });
        // The name is the join secret: not in the refusal.
        expect((error as Error).message).toContain('token (name hidden)');
        expect((error as Error).message).not.toContain(secretName);
      }
      expect(await fixture.service.context.resources.get('token', secretName)).toBeUndefined();
    });

    it('offers a way to a new token that works where the bot stands: exists, in the same batch, or not yet', async () => {
      const fixture = await createFixture();
      await fixture.addBot('robot', ['ops']);
      const refusal = (documents: unknown[]) =>
        fixture.service.admin.putResources(documents, false, 'test').catch((caught: Error) => caught.message);
      const later = { ...tokenMethod({}), spec: { ...tokenMethod({}).spec, bot_name: 'later' } };
      expect(await refusal([tokenMethod({})])).toMatch(
        /, or let `midctl tokens add --type=bot --bot-name=robot --ttl=1h` make one$/,
      );
      expect(await refusal([later])).toMatch(
        /, or let `midctl bots add later --roles=ROLES --ttl=1h` make the bot with a token of its own \(bot "later" does not exist yet, so `midctl tokens add` cannot\)$/,
      );
      const laterBot = { kind: 'bot', version: 'v1', metadata: { name: 'later' }, spec: { roles: ['ops'] } };
      expect(await refusal([laterBot, later])).toMatch(
        /^resources\[1\]: .*, or leave the token out and, once the bot is created, let `midctl tokens add --type=bot --bot-name=later --ttl=1h` make one$/,
      );
      expect(await fixture.service.context.resources.get('bot', 'later')).toBeUndefined();
    });

    it('creates one that expires in time, audited by fingerprint, and it joins once', async () => {
      const fixture = await createFixture();
      await fixture.addBot('robot', ['ops']);
      const expires = new Date(fixture.clock.now() + 3_600_000).toISOString();
      await fixture.service.admin.putResources([tokenMethod({ expires })], false, 'test');
      const created = await fixture.service.admin.events({ type: 'resource.create' });
      expect(JSON.stringify(created)).not.toContain(secretName);
      expect(created[0]).toMatchObject({ resource: `token/${tokenFingerprint(secretName)}` });
      await expect(fixture.join(secretName)).resolves.toMatchObject({ identity: { bot_name: 'robot' } });
    });

    /** A token of bot robot that the operator rewrites for bot other while the next join reads the roles. */
    async function tokenRewrittenDuringNextJoin() {
      const storage = new InterleavingBackend(new ManualClock(START));
      const fixture = await createFixture(storage);
      await fixture.addBot('robot', ['ops']);
      await fixture.addBot('other', ['ops']);
      const expires = new Date(fixture.clock.now() + 3_600_000).toISOString();
      await fixture.service.admin.putResources([tokenMethod({ expires })], false, 'test');
      const rewritten = { ...tokenMethod({ expires }), spec: { ...tokenMethod({}).spec, bot_name: 'other' } };
      storage.onNextRead('roles/', () => fixture.service.admin.putResources([rewritten], true, 'test'));
      return fixture;
    }

    it('spends only the token it read: one rewritten for another bot meanwhile joins nothing and stays', async () => {
      const fixture = await tokenRewrittenDuringNextJoin();

      await expect(fixture.join(secretName)).rejects.toMatchObject({
        code: 'token_changed',
        message: expect.stringContaining('rewritten by an operator while this join was using it'),
      });

      expect(await fixture.service.context.instances.list('robot')).toEqual([]);
      const kept = await fixture.service.context.resources.get('token', secretName);
      expect(kept?.resource.spec.bot_name).toBe('other');
      // Not spent, so no tombstone says it was: once the token is removed, it is unknown, not used.
      await fixture.service.admin.deleteResource('token', secretName, undefined, 'test');
      await expect(fixture.join(secretName)).rejects.toMatchObject({ code: 'token_not_found' });
    });

    it('a rewritten token is still joined once: the rewritten one, after the refused join', async () => {
      const fixture = await tokenRewrittenDuringNextJoin();
      await expect(fixture.join(secretName)).rejects.toMatchObject({ code: 'token_changed' });

      await expect(fixture.join(secretName)).resolves.toMatchObject({ identity: { bot_name: 'other' } });
      await expect(fixture.join(secretName)).rejects.toMatchObject({
        code: 'token_already_used',
        bot: 'other',
      });
    });

    it('lets an iam token be open-ended, and name a bot that does not exist yet (then `bots add --token`)', async () => {
      const fixture = await createFixture();
      await fixture.service.admin.putResources(
        [
          {
            kind: 'token',
            version: 'v2',
            metadata: { name: 'ci-iam' },
            spec: {
              roles: ['Bot'],
              join_method: 'iam',
              bot_name: 'later',
              allow: [{ aws_account: '111111111111' }],
            },
          },
        ],
        false,
        'test',
      );
      await expect(
        fixture.service.admin.addBot({ name: 'later', roles: ['ops'], token_name: 'ci-iam' }, 'test'),
      ).resolves.toMatchObject({ token: { name: 'ci-iam' } });
    });
  });

  it('refuses a bot name that cannot go into a certificate, naming the field once', async () => {
    const fixture = await createFixture();
    const error = await fixture.service.admin.addBot({ name: 'Bad Name', roles: ['ops'] }, 'test').then(
      () => new Error('expected a refusal'),
      (caught: unknown) => caught as Error,
    );
    expect(error.message).toMatch(/^bot: metadata\.name: got "Bad Name", a space is not allowed/);
  });

  it('refuses to add a bot whose name its certificates could not hold, and joins one of 60 characters', async () => {
    const fixture = await createFixture();
    const error = await fixture.service.admin.addBot({ name: 'b'.repeat(61), roles: ['ops'] }, 'test').then(
      () => new Error('expected a refusal'),
      (caught: unknown) => caught as Error,
    );
    expect(error.message).toContain(
      'bot: metadata.name: got "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb", the name is 61 characters long; a bot\'s name is at most 60 characters',
    );
    expect(await fixture.service.context.resources.list('token')).toEqual([]);
    const token = await fixture.addBot('b'.repeat(60), ['ops']);
    const { identity } = await fixture.join(token);
    expect(new X509Certificate(identity.tls_cert).subject).toContain(`CN=bot-${'b'.repeat(60)}`);
  });

  it('joins a bot holding 100 roles, the most it may hold', async () => {
    const fixture = await createFixture();
    const roles = Array.from({ length: 100 }, (_, index) => `role-${index}`);
    await fixture.service.admin.putResources(
      roles.map((name) => ({ kind: 'role', version: 'v7', metadata: { name }, spec: {} })),
      false,
      'test',
    );
    const token = await fixture.addBot('robot', roles);
    const { identity } = await fixture.join(token);
    expect(identity.roles).toHaveLength(100);
  });

  it('refuses to join a bot whose name is too long for its certificates without spending the token', async () => {
    // A bot stored before such names were refused at creation.
    const fixture = await createFixture();
    const name = 'b'.repeat(63);
    const token = 'f0e1d2c3b4a5968778695a4b3c2d1e0f';
    const expires = new Date(fixture.clock.now() + 3_600_000).toISOString();
    await fixture.service.context.resources.put({
      kind: 'bot',
      version: 'v1',
      metadata: { name },
      spec: { roles: ['ops'] },
    });
    await fixture.service.context.resources.put({
      kind: 'token',
      version: 'v2',
      metadata: { name: token, expires },
      spec: { roles: ['Bot'], join_method: 'token', bot_name: name },
    });
    await expect(fixture.join(token)).rejects.toMatchObject({
      code: 'bot_name_too_long',
      message: expect.stringContaining(
        `the token was not used. Add the bot again under a name of at most 60 characters`,
      ),
    });
    expect(await fixture.service.context.resources.get('token', token)).toBeDefined();
  });

  it('refuses `bots add --token` with a token for another bot', async () => {
    const fixture = await createFixture();
    await fixture.service.admin.putResources(
      [
        {
          kind: 'token',
          version: 'v2',
          metadata: { name: 'iam-token' },
          spec: {
            roles: ['Bot'],
            join_method: 'iam',
            bot_name: 'other',
            allow: [{ aws_account: '111111111111' }],
          },
        },
      ],
      false,
      'test',
    );
    await expect(
      fixture.service.admin.addBot({ name: 'robot', roles: ['ops'], token_name: 'iam-token' }, 'test'),
    ).rejects.toMatchObject({
      code: 'token_for_another_bot',
    });
  });

  it('refuses a weak public key and keeps the token', async () => {
    const fixture = await createFixture();
    const token = await fixture.addBot('robot', ['ops']);
    const { generateKeyPairSync } = await import('node:crypto');
    const weak = generateKeyPairSync('rsa', { modulusLength: 1024 })
      .publicKey.export({ type: 'spki', format: 'pem' })
      .toString();
    await expect(
      fixture.service.join.join({ join_method: 'token', token, public_key: weak }, { requestId: 't' }),
    ).rejects.toMatchObject({ code: 'weak_public_key' });
    await expect(fixture.join(token)).resolves.toBeDefined();
  });

  it('records every join, success and refusal, in the audit log without the token', async () => {
    const fixture = await createFixture();
    const token = await fixture.addBot('robot', ['ops']);
    await fixture.join(token);
    await fixture.join(token).catch(() => undefined);
    const events = await fixture.service.admin.events({ type: 'bot.join' });
    expect(events.map((event) => `${event.outcome}:${event.code ?? ''}`)).toEqual([
      'failure:token_already_used',
      'success:',
    ]);
    expect(JSON.stringify(events)).not.toContain(token);
    expect(events[0]?.token_fingerprint).toMatch(/^sha256:[0-9a-f]{16}$/);
  });

  describe.each([
    ['memory', async () => ({ storage: new MemoryBackend(new ManualClock(START)), cleanup: () => {} })],
    [
      'sqlite',
      async () => {
        const dir = mkdtempSync(join(tmpdir(), 'mid-join-race-'));
        const storage = SqliteBackend.open(join(dir, 'state.db'), { clock: new ManualClock(START) });
        return { storage, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
      },
    ],
  ])('under concurrency on the %s backend', (_name, makeStorage) => {
    it('lets exactly one of 50 parallel joins with one token win, and the audit log agrees', async () => {
      const { storage, cleanup } = await makeStorage();
      try {
        const fixture = await createFixture(storage);
        const token = await fixture.addBot('robot', ['ops']);
        const results = await Promise.allSettled(
          Array.from({ length: 50 }, () =>
            fixture.service.join.join(
              { join_method: 'token', token, public_key: newPublicKeyPem() },
              { requestId: 'race' },
            ),
          ),
        );
        const wins = results.filter((result) => result.status === 'fulfilled');
        const losses = results.filter(
          (result): result is PromiseRejectedResult => result.status === 'rejected',
        );
        expect(wins).toHaveLength(1);
        expect(new Set(losses.map((loss) => (loss.reason as { code: string }).code))).toEqual(
          new Set(['token_already_used']),
        );
        expect(await fixture.service.context.instances.list('robot')).toHaveLength(1);
        const events = await fixture.service.admin.events({ type: 'bot.join', limit: 1000 });
        expect(events.filter((event) => event.outcome === 'success')).toHaveLength(1);
        expect(events.filter((event) => event.outcome === 'failure')).toHaveLength(49);
      } finally {
        await storage.close();
        cleanup();
      }
    });
  });
});
