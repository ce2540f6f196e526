import { afterEach, describe, expect, it } from 'vitest';
import { ROUTES } from '../../../lib/api/routes.js';
import type { ApiRequest } from '../../../lib/auth/http/api-request.js';
import { ApiRouter } from '../../../lib/auth/http/api-router.js';
import { BearerAdminAuthenticator } from '../../../lib/auth/http/bearer-admin-authenticator.js';
import { joinChallengeRoute } from '../../../lib/auth/iam/join-challenge-route.js';
import { signGetCallerIdentity } from '../../../lib/bot/iam/sign-get-caller-identity.js';
import { newPublicKeyPem } from '../auth-fixture.js';
import { CLUSTER, createIamFixture, credentialsOf, type IamFixture, IDENTITIES } from './iam-fixture.js';

let fixture: IamFixture;
afterEach(async () => {
  await fixture?.close();
});

function request(method: string, path: string, body?: unknown): ApiRequest {
  return {
    method,
    path,
    query: new URLSearchParams(),
    headers: {},
    body: Buffer.from(body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body)),
    requestId: 'req-1',
  };
}

async function router(
  options: { maxConcurrentJoins?: number; maxChallengesPerSecond?: number; ttlMs?: number } = {},
) {
  fixture = await createIamFixture();
  return new ApiRouter(fixture.service, {
    admin: new BearerAdminAuthenticator('a'.repeat(64)),
    ...(options.maxConcurrentJoins === undefined ? {} : { maxConcurrentJoins: options.maxConcurrentJoins }),
    ...(options.maxChallengesPerSecond === undefined
      ? {}
      : { maxChallengesPerSecond: options.maxChallengesPerSecond }),
    extraRoutes: [
      joinChallengeRoute(
        fixture.service.context,
        options.ttlMs === undefined ? {} : { ttlMs: options.ttlMs },
      ),
    ],
  });
}

describe('POST /v1/join/challenge', () => {
  it('hands out a fresh challenge with its expiry, without authentication', async () => {
    const api = await router();
    const response = await api.handle(request('POST', ROUTES.joinChallenge));
    expect(response.status).toBe(200);
    const body = JSON.parse(response.body);
    expect(body.challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(body.expires_at).toBe(new Date(fixture.clock.now() + 120_000).toISOString());
    const again = JSON.parse((await api.handle(request('POST', ROUTES.joinChallenge, {}))).body);
    expect(again.challenge).not.toBe(body.challenge);
  });

  it('hands out challenges at a bounded rate: each is stored, so a flood must not fill the storage', async () => {
    const api = await router({ maxChallengesPerSecond: 5 });
    const ask = async () => (await api.handle(request('POST', ROUTES.joinChallenge))).status;
    const burst = [];
    for (let i = 0; i < 12; i += 1) burst.push(await ask());
    expect(burst).toEqual([...Array(10).fill(200), 429, 429]);
    const refused = JSON.parse((await api.handle(request('POST', ROUTES.joinChallenge))).body);
    expect(refused.error.code).toBe('too_many_challenges');
    // Refusals are audited, one record a second with a count, not one per request.
    const events = await fixture.service.admin.events({ type: 'bot.join' });
    expect(events.filter((event) => event.code === 'too_many_challenges')).toHaveLength(1);
    fixture.clock.advance(1_000);
    const refilled = [];
    for (let i = 0; i < 6; i += 1) refilled.push(await ask());
    expect(refilled).toEqual([200, 200, 200, 200, 200, 429]);
  });

  it('honours a configured lifetime and refuses one over five minutes', async () => {
    const api = await router({ ttlMs: 60_000 });
    const body = JSON.parse((await api.handle(request('POST', ROUTES.joinChallenge))).body);
    expect(Date.parse(body.expires_at) - fixture.clock.now()).toBe(60_000);
    expect(() => joinChallengeRoute(fixture.service.context, { ttlMs: 5 * 60_000 + 1 })).toThrow(
      /1 s to 300 s/,
    );
  });

  it('refuses a body with fields and other methods', async () => {
    const api = await router();
    const withFields = await api.handle(request('POST', ROUTES.joinChallenge, { challenge: 'mine' }));
    expect(withFields.status).toBe(400);
    expect(JSON.parse(withFields.body).error.message).toContain('unknown key "challenge"');
    expect((await api.handle(request('GET', ROUTES.joinChallenge))).status).toBe(405);
  });

  it('is bounded by the join concurrency limit', async () => {
    const api = await router({ maxConcurrentJoins: 0 });
    const response = await api.handle(request('POST', ROUTES.joinChallenge));
    expect(response.status).toBe(429);
    expect(JSON.parse(response.body).error.code).toBe('too_many_joins');
  });

  it('serves a whole iam join over the API, and answers a refusal with its code', async () => {
    const api = await router();
    const { challenge } = JSON.parse((await api.handle(request('POST', ROUTES.joinChallenge))).body);
    const iam = await signGetCallerIdentity({
      region: 'us-east-1',
      challenge,
      clusterName: CLUSTER,
      credentials: credentialsOf(IDENTITIES.session1),
      clock: fixture.clock,
    });
    const body = { join_method: 'iam', token: 'ci-token', public_key: newPublicKeyPem(), iam };
    const joined = await api.handle(request('POST', ROUTES.join, body));
    expect(joined.status).toBe(200);
    expect(JSON.parse(joined.body)).toMatchObject({ bot_name: 'robot', renewable: false });

    const replayed = await api.handle(request('POST', ROUTES.join, body));
    expect(replayed.status).toBe(403);
    expect(JSON.parse(replayed.body).error.code).toBe('challenge_replayed');
    // The session token travelled to STS but never comes back in an answer.
    expect(replayed.body).not.toContain(IDENTITIES.session1.sessionToken);
  });

  it('answers an STS outage with 503 so the agent retries', async () => {
    const api = await router();
    fixture.emulator.setFault({ kind: 'status', status: 500 });
    const { challenge } = JSON.parse((await api.handle(request('POST', ROUTES.joinChallenge))).body);
    const iam = await signGetCallerIdentity({
      region: 'us-east-1',
      challenge,
      clusterName: CLUSTER,
      credentials: credentialsOf(IDENTITIES.session1),
      clock: fixture.clock,
    });
    const response = await api.handle(
      request('POST', ROUTES.join, {
        join_method: 'iam',
        token: 'ci-token',
        public_key: newPublicKeyPem(),
        iam,
      }),
    );
    expect(response.status).toBe(503);
    expect(JSON.parse(response.body).error.code).toBe('sts_unavailable');
  });
});
