import { describe, expect, it } from 'vitest';
import { ROUTES } from '../../lib/api/routes.js';
import type { RequestMeta } from '../../lib/auth/auth-context.js';
import { publicKeyToPem } from '../../lib/pki/key-encoding.js';
import { generateKeyPair } from '../../lib/pki/signature-suite.js';
import { createFixture, GRAFANA_APP, makeSigner, newPublicKeyPem } from './auth-fixture.js';

/** A documentation address (RFC 5737), as the transport would hand it over. */
const FROM: RequestMeta = { requestId: 'req-remote', remoteAddr: '203.0.113.7' };

describe('the address a request came from, in its audit records', () => {
  it('is on a join, accepted or refused, and on the bot calls and issuance that follow', async () => {
    const fixture = await createFixture();
    await fixture.service.admin.putResources([GRAFANA_APP], false, 'test');
    const token = await fixture.addBot('robot', ['apps']);

    await expect(
      fixture.service.join.join(
        { join_method: 'token', token: 'not-a-token', public_key: newPublicKeyPem() },
        FROM,
      ),
    ).rejects.toMatchObject({ code: 'token_not_found' });
    const keys = generateKeyPair('balanced', 'subject');
    const identity = await fixture.service.join.join(
      { join_method: 'token', token, public_key: publicKeyToPem(keys.publicKey) },
      FROM,
    );
    const signer = makeSigner(identity, keys.privateKey, fixture.clock);

    const issueBody = { output: 'application' as const, app_name: 'grafana', public_key: newPublicKeyPem() };
    const request = signer.request(ROUTES.botCertificates, issueBody);
    const caller = await fixture.service.authenticator.authenticate(request, FROM);
    await fixture.service.outputs.issue(caller, issueBody, FROM);
    await expect(fixture.service.authenticator.authenticate(request, FROM)).rejects.toMatchObject({
      code: 'replayed_request',
    });

    const events = await fixture.service.admin.events({});
    const fromRequests = events.filter((event) => event.request_id === FROM.requestId);
    expect(fromRequests.map((event) => [event.type, event.outcome, event.code])).toEqual(
      expect.arrayContaining([
        ['bot.join', 'failure', 'token_not_found'],
        ['bot.join', 'success', undefined],
        ['cert.issue', 'success', undefined],
        ['bot.authenticate', 'failure', 'replayed_request'],
      ]),
    );
    for (const event of fromRequests) expect(event.remote_addr).toBe('203.0.113.7');
  });

  it('is left out when the transport does not know it, never guessed', async () => {
    const fixture = await createFixture();
    const token = await fixture.addBot('robot', ['ops']);
    await fixture.service.join.join(
      { join_method: 'token', token, public_key: newPublicKeyPem() },
      { requestId: 'req-no-addr' },
    );
    const [joined] = (await fixture.service.admin.events({ type: 'bot.join' })).filter(
      (event) => event.request_id === 'req-no-addr',
    );
    expect(joined).toMatchObject({ outcome: 'success', bot: 'robot' });
    expect(joined).not.toHaveProperty('remote_addr');
  });
});
