import { describe, expect, it } from 'vitest';
import { ROUTES } from '../../../lib/api/routes.js';
import { createFixture } from '../auth-fixture.js';
import { fromBot, routerForBots } from './bot-routes.js';

/** A bot's body is parsed once its signature is checked: a bad one is the bot's, audited and spent. */
describe('a bot body that its schema refuses', () => {
  it('is refused as invalid_body, audited naming the bot, and its nonce spent; unsigned, it is a 401', async () => {
    const fixture = await createFixture();
    const { signer } = await fixture.join(await fixture.addBot('robot', ['ops']));
    const api = routerForBots(fixture.service);
    const signed = signer.request(ROUTES.botRenew, { public_key: 'x' });
    // The signed headers of another body: the body hash no longer matches.
    const tampered = { ...signer.request(ROUTES.botRenew, {}), body: Buffer.from('{"public_key":') };

    expect((await api.handle(fromBot(tampered))).status).toBe(401);
    const invalid = await api.handle(fromBot(signed));
    expect(invalid.status).toBe(400);
    expect(JSON.parse(invalid.body)).toMatchObject({ error: { code: 'invalid_body' } });
    const events = await fixture.service.admin.events({ type: 'bot.renew' });
    expect(events).toEqual([expect.objectContaining({ bot: 'robot', code: 'invalid_body' })]);
    const replayed = await api.handle(fromBot(signed));
    expect(JSON.parse(replayed.body)).toMatchObject({ error: { code: 'replayed_request' } });
  });
});
