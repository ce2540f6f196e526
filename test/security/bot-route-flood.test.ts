import { describe, expect, it } from 'vitest';
import { ROUTES } from '../../lib/api/routes.js';
import type { BotRequest } from '../../lib/auth/bot-authenticator.js';
import { createFixture, type Fixture } from '../auth/auth-fixture.js';

/**
 * The bot routes answer anyone, and a call that proves no bot key (no headers, a certificate of no
 * cluster, someone's certificate without its key) can be sent by anyone, as fast as they like. Each is
 * audited, but as the other floods are: at most one record a second per kind and bot, with the count of
 * those refused since, so that a flood of them does not become a flood of storage writes.
 */
const heartbeat = { hostname: 'h', version: '1', uptime_seconds: 1, one_shot: true, outputs_written: 0 };

async function refusedCall(fixture: Fixture, request: BotRequest, requestId: string): Promise<void> {
  await expect(
    fixture.service.authenticator.authenticate(request, { requestId, remoteAddr: '203.0.113.9' }),
  ).rejects.toThrow();
}

const unsigned: BotRequest = {
  method: 'POST',
  path: ROUTES.botHeartbeat,
  headers: {},
  body: Buffer.from('{}'),
};

describe('a flood of calls to the bot routes that prove no bot key', () => {
  it('is audited once a second with a count, not once a call, naming where it came from', async () => {
    const fixture = await createFixture();
    for (let i = 0; i < 50; i += 1) await refusedCall(fixture, unsigned, `flood-${i}`);
    const first = await fixture.service.admin.events({ type: 'bot.authenticate' });
    expect(first).toEqual([
      expect.objectContaining({
        outcome: 'failure',
        code: 'bot_auth_missing',
        request_id: 'flood-0',
        remote_addr: '203.0.113.9',
      }),
    ]);
    fixture.clock.advance(1_000);
    await refusedCall(fixture, unsigned, 'after');
    const [latest] = await fixture.service.admin.events({ type: 'bot.authenticate' });
    expect(latest).toMatchObject({ code: 'bot_auth_missing', request_id: 'after' });
    expect(latest?.message).toMatch(/\(49 more refused since the previous record\)$/);
  });

  it('keeps one record per bot whose certificate is presented without its key', async () => {
    const fixture = await createFixture();
    for (const bot of ['robot', 'other']) {
      const { signer } = await fixture.join(await fixture.addBot(bot, ['ops']));
      for (let i = 0; i < 10; i += 1) {
        const request = signer.request(ROUTES.botHeartbeat, heartbeat);
        // Someone else's body under the bot's signature: the certificate is real, the key is not theirs.
        await refusedCall(fixture, { ...request, body: Buffer.from('{"forged":true}') }, `${bot}-${i}`);
      }
    }
    const refused = await fixture.service.admin.events({ type: 'bot.authenticate' });
    expect(refused.map((event) => [event.bot, event.code]).sort()).toEqual([
      ['other', 'bad_signature'],
      ['robot', 'bad_signature'],
    ]);
  });

  it('still audits every refusal of a caller that proved the key (a replay, a copy of an old identity)', async () => {
    const fixture = await createFixture();
    const { signer } = await fixture.join(await fixture.addBot('robot', ['ops']));
    const request = signer.request(ROUTES.botHeartbeat, heartbeat);
    await fixture.service.authenticator.authenticate(request, { requestId: 'first' });
    for (let i = 0; i < 3; i += 1) await refusedCall(fixture, request, `replay-${i}`);
    const refused = await fixture.service.admin.events({ type: 'bot.authenticate' });
    expect(refused.map((event) => event.request_id).sort()).toEqual(['replay-0', 'replay-1', 'replay-2']);
  });
});
