import { describe, expect, it } from 'vitest';
import { ROUTES } from '../../../lib/api/routes.js';
import type { ApiRequest } from '../../../lib/auth/http/api-request.js';
import { ApiRouter } from '../../../lib/auth/http/api-router.js';
import { BearerAdminAuthenticator } from '../../../lib/auth/http/bearer-admin-authenticator.js';
import { createFixture, newPublicKeyPem } from '../auth-fixture.js';

const ADMIN_SECRET = 'a'.repeat(64);

function request(
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): ApiRequest {
  return {
    method,
    path,
    query: new URLSearchParams(),
    headers,
    body: Buffer.from(body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body)),
    requestId: 'req-1',
  };
}

async function router(options: { maxConcurrentJoins?: number } = {}) {
  const fixture = await createFixture();
  return {
    fixture,
    router: new ApiRouter(fixture.service, { admin: new BearerAdminAuthenticator(ADMIN_SECRET), ...options }),
  };
}

const admin = { authorization: `Bearer ${ADMIN_SECRET}` };

describe('the HTTP API router', () => {
  it('answers ping with the cluster name, suite and CA pin', async () => {
    const { router: api, fixture } = await router();
    const response = await api.handle(request('GET', ROUTES.ping));
    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({
      cluster_name: 'example.test',
      signature_suite: 'balanced',
      ca_pin: fixture.service.context.cas.caPin,
    });
  });

  it('refuses admin routes without the admin credential', async () => {
    const { router: api } = await router();
    const missing = await api.handle(request('GET', ROUTES.adminStatus));
    expect(missing.status).toBe(401);
    expect(JSON.parse(missing.body).error.code).toBe('admin_auth_failed');
    const wrong = await api.handle(
      request('GET', ROUTES.adminStatus, undefined, { authorization: `Bearer ${'b'.repeat(64)}` }),
    );
    expect(wrong.status).toBe(401);
    const right = await api.handle(request('GET', ROUTES.adminStatus, undefined, admin));
    expect(right.status).toBe(200);
  });

  it('refuses unknown fields in a body and names them', async () => {
    const { router: api } = await router();
    const response = await api.handle(
      request('POST', ROUTES.join, {
        join_method: 'token',
        token: 'x',
        public_key: newPublicKeyPem(),
        bot: 'robot',
      }),
    );
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body).error.message).toContain('unknown key "bot"');
  });

  it('never echoes the token of a malformed join', async () => {
    const { router: api } = await router();
    const secret = 'f'.repeat(300);
    const response = await api.handle(
      request('POST', ROUTES.join, { join_method: 'token', token: secret, public_key: newPublicKeyPem() }),
    );
    expect(response.status).toBe(400);
    expect(response.body).not.toContain(secret);
  });

  it('refuses an oversized body before parsing it', async () => {
    const { router: api } = await router();
    const response = await api.handle(request('POST', ROUTES.join, `{"token":"${'x'.repeat(70_000)}"}`));
    expect(response.status).toBe(413);
    expect(JSON.parse(response.body).error.code).toBe('body_too_large');
  });

  it('audits an oversized body under the type of its route, and at any other path as one request flood', async () => {
    const { router: api, fixture } = await router();
    const meta = { requestId: 'big' };
    for (const path of [
      ROUTES.joinChallenge,
      ROUTES.botRenew,
      ROUTES.botCertificatesBatch,
      ROUTES.botHeartbeat,
    ])
      await api.auditOversizedBody(path, meta);
    // Paths that are no route share one sampling window (the clock stands still): one record, not 50.
    for (let i = 0; i < 50; i += 1) await api.auditOversizedBody(`/v1/bot/made-up-${i}`, meta);
    const refused = (await fixture.service.admin.events({})).filter(
      (event) => event.code === 'body_too_large',
    );
    expect(refused.map((event) => event.type).sort()).toEqual([
      'bot.heartbeat',
      'bot.join',
      'bot.renew',
      'cert.issue',
      'request',
    ]);
  });

  it('refuses deeply nested JSON without recursing into it', async () => {
    const { router: api } = await router();
    const response = await api.handle(
      request('POST', ROUTES.join, `${'['.repeat(10_000)}${']'.repeat(10_000)}`),
    );
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body).error.code).toBe('body_too_deep');
  });

  it('refuses malformed JSON with a clear code', async () => {
    const { router: api } = await router();
    const response = await api.handle(request('POST', ROUTES.join, '{"join_method": '));
    expect(JSON.parse(response.body).error.code).toBe('malformed_json');
  });

  it('never quotes a join body back: not a mistyped token, not a signed header (SECURITY rule 10)', async () => {
    const { router: api, fixture } = await router();
    const secret = 'd29ff3a31c0ffee5ecre7';
    // A shell slip: the token in single quotes, which is not JSON; V8's own message would quote it.
    const quoted = await api.handle(
      request('POST', ROUTES.join, `{"join_method":"token","token":'${secret}'}`),
    );
    expect(JSON.parse(quoted.body).error.code).toBe('malformed_json');
    const sessionToken = `IQoJb3JpZ2luSESSIONTOKEN${'x'.repeat(20_000)}`;
    const oversized = await api.handle(
      request('POST', ROUTES.join, {
        join_method: 'iam',
        token: 'ci-token',
        public_key: newPublicKeyPem(),
        iam: {
          method: 'POST',
          url: 'https://sts.us-east-1.amazonaws.com/',
          headers: [['x-amz-security-token', sessionToken]],
          body: 'Action=GetCallerIdentity&Version=2011-06-15',
        },
      }),
    );
    expect(JSON.parse(oversized.body).error).toMatchObject({ code: 'invalid_body' });
    expect(JSON.parse(oversized.body).error.message).toContain('body.iam.headers[0][1]: got (value hidden)');
    const events = JSON.stringify(await fixture.service.admin.events({ type: 'bot.join' }));
    for (const text of [quoted.body, oversized.body, events]) {
      expect(text).not.toContain(secret.slice(0, 6));
      expect(text).not.toContain('IQoJb3JpZ2lu');
    }
  });

  it('never quotes a join body that is the token alone, in the answer or the audit log (SECURITY rule 10)', async () => {
    const { router: api, fixture } = await router();
    const secret = 'd29ff3a31c0ffee5ecre7d29ff3a31c0f';
    // `curl -d '"TOKEN"'`: valid JSON, but a string where the join request goes.
    const bare = await api.handle(request('POST', ROUTES.join, JSON.stringify(secret)));
    expect(bare.status).toBe(400);
    expect(JSON.parse(bare.body).error).toMatchObject({
      code: 'invalid_body',
      message: 'body: got (value hidden), expected a mapping',
    });
    const events = JSON.stringify(await fixture.service.admin.events({ type: 'bot.join' }));
    expect(events).toContain('invalid_body');
    for (const text of [bare.body, events]) expect(text).not.toContain(secret.slice(0, 6));
  });

  it('answers 404 for unknown routes and 405 for wrong methods', async () => {
    const { router: api } = await router();
    expect((await api.handle(request('GET', '/v1/nope'))).status).toBe(404);
    expect((await api.handle(request('GET', ROUTES.join))).status).toBe(405);
  });

  it('bounds a join flood: joins beyond the limit in flight get 429', async () => {
    const { router: api, fixture } = await router({ maxConcurrentJoins: 4 });
    const tokens = await Promise.all(
      Array.from({ length: 12 }, (_, i) => fixture.addBot(`bot${i}`, ['ops'])),
    );
    const responses = await Promise.all(
      tokens.map((token) =>
        api.handle(
          request('POST', ROUTES.join, { join_method: 'token', token, public_key: newPublicKeyPem() }),
        ),
      ),
    );
    const statuses = responses.map((response) => response.status);
    expect(statuses.filter((status) => status === 200)).toHaveLength(4);
    expect(statuses.filter((status) => status === 429)).toHaveLength(8);
    expect(JSON.parse(responses.find((response) => response.status === 429)?.body ?? '{}').error.code).toBe(
      'too_many_joins',
    );
    // Audited, but as one record per second of flood (the clock stands still here), not one per request.
    const refused = (await fixture.service.admin.events({ type: 'bot.join' })).filter(
      (event) => event.code === 'too_many_joins',
    );
    expect(refused).toHaveLength(1);
    fixture.clock.advance(1_000);
    const late = await Promise.all(Array.from({ length: 12 }, (_, i) => fixture.addBot(`late${i}`, ['ops'])));
    const again = await Promise.all(
      late.map((token) =>
        api.handle(
          request('POST', ROUTES.join, { join_method: 'token', token, public_key: newPublicKeyPem() }),
        ),
      ),
    );
    expect(again.some((response) => response.status === 429)).toBe(true);
    const after = (await fixture.service.admin.events({ type: 'bot.join' })).filter(
      (event) => event.code === 'too_many_joins',
    );
    expect(after).toHaveLength(2);
    expect(after[0]?.message).toMatch(/\(\d+ more refused since the previous record\)/);
  });

  it('refuses a second name on a kind other than bot_instance instead of acting on the first', async () => {
    const { router: api, fixture } = await router();
    await fixture.addBot('robot', ['ops']);
    const instancePath = `${ROUTES.adminResources}/bot/robot/0b6c9a41-1111-2222-3333-444455556666`;
    for (const method of ['DELETE', 'GET']) {
      const refused = await api.handle(request(method, instancePath, undefined, admin));
      expect(refused.status).toBe(400);
      expect(JSON.parse(refused.body).error).toMatchObject({
        code: 'invalid_reference',
        message:
          'a bot is named by one segment (bot/NAME), but two were given; only bot instances take two (bot_instance/BOT/ID)',
      });
    }
    const role = await api.handle(
      request('DELETE', `${ROUTES.adminResources}/role/ops/extra`, undefined, admin),
    );
    expect(JSON.parse(role.body).error.code).toBe('invalid_reference');
    // Nothing was removed.
    expect(await fixture.service.admin.getResources('bot', 'robot')).toHaveLength(1);
    expect(await fixture.service.admin.getResources('role', 'ops')).toHaveLength(1);
    expect(await fixture.service.admin.events({ type: 'resource.delete' })).toEqual([]);
  });

  it('locks and unlocks a bot instance for an admin only, with the message checked as any body field', async () => {
    const { router: api, fixture } = await router();
    const { identity } = await fixture.join(await fixture.addBot('robot', ['ops']));
    const path = `${ROUTES.adminBotInstances}/robot/${identity.instance_id}/lock`;
    expect((await api.handle(request('POST', path, {}))).status).toBe(401);
    for (const [body, problem] of [
      [{ message: '' }, 'body.message: got "", the message is blank; leave it out for the default'],
      [{ message: 'x'.repeat(257) }, 'a lock message is at most 256 characters'],
      [
        { message: 'bidi \u202e evil' },
        'got "bidi \\u202e evil", the invisible character U+202E is not allowed',
      ],
      [{ message: 'line\nbreak' }, 'a line break is not allowed in a lock message'],
      [{ reason: 'why' }, 'reason'],
    ] as const) {
      const refused = await api.handle(request('POST', path, body, admin));
      expect(refused.status).toBe(400);
      expect(JSON.parse(refused.body).error.message).toContain(problem);
    }
    expect(await fixture.service.admin.events({ type: 'bot.lock' })).toEqual([]);

    const locked = await api.handle(request('POST', path, { message: 'under review' }, admin));
    expect(locked.status).toBe(200);
    expect(JSON.parse(locked.body).instance.status.locked).toMatchObject({ reason: 'under review' });
    expect((await api.handle(request('DELETE', path, undefined))).status).toBe(401);
    const unlocked = await api.handle(request('DELETE', path, undefined, admin));
    expect(unlocked.status).toBe(200);
    expect(JSON.parse(unlocked.body).instance.status.locked).toBeUndefined();
    const again = await api.handle(request('DELETE', path, undefined, admin));
    expect(again.status).toBe(409);
    expect(JSON.parse(again.body).error.code).toBe('instance_not_locked');
    const unknown = await api.handle(
      request('POST', `${ROUTES.adminBotInstances}/robot/nope/lock`, {}, admin),
    );
    expect(unknown.status).toBe(404);
  });

  it('locks and unlocks a whole bot for an admin only, with its lifetime checked as any body field', async () => {
    const { router: api, fixture } = await router();
    const { signer } = await fixture.join(await fixture.addBot('robot', ['ops']));
    const path = `${ROUTES.adminBots}/robot/lock`;
    expect((await api.handle(request('POST', path, {}))).status).toBe(401);
    for (const [body, problem] of [
      [{ ttl_seconds: 0 }, 'body.ttl_seconds: got 0, expected a positive TTL'],
      [{ ttl_seconds: 1.5 }, 'expected whole seconds'],
      [{ expires: 'tomorrow' }, 'body.expires: got "tomorrow"'],
      [{ expires: '2020-01-01T00:00:00Z' }, 'which has already passed'],
      [{ ttl_seconds: 60, expires: '2100-01-01T00:00:00Z' }, 'not both'],
      [{ message: '' }, 'the message is blank'],
    ] as const) {
      const refused = await api.handle(request('POST', path, body, admin));
      expect(refused.status).toBe(400);
      expect(JSON.parse(refused.body).error.message).toContain(problem);
    }
    expect(await fixture.service.admin.events({ type: 'bot.lock' })).toEqual([]);

    const locked = await api.handle(
      request('POST', path, { message: 'incident 42', ttl_seconds: 600 }, admin),
    );
    expect(locked.status).toBe(200);
    expect(JSON.parse(locked.body).lock).toMatchObject({
      bot: 'robot',
      reason: 'incident 42',
      by: 'local-admin',
    });
    const refused = await api.handle({
      ...signer.request(ROUTES.botHeartbeat, {}),
      query: new URLSearchParams(),
      requestId: 'req-2',
    });
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body).error.code).toBe('bot_locked');
    const listed = await api.handle(request('GET', `${ROUTES.adminResources}/bot/robot`, undefined, admin));
    expect(JSON.parse(listed.body).resources[0].status.locked).toMatchObject({ reason: 'incident 42' });
    expect((await api.handle(request('DELETE', path, undefined))).status).toBe(401);
    const unlocked = await api.handle(request('DELETE', path, undefined, admin));
    expect(unlocked.status).toBe(200);
    expect(JSON.parse(unlocked.body).lifted).toMatchObject({ reason: 'incident 42' });
    const again = await api.handle(request('DELETE', path, undefined, admin));
    expect(again.status).toBe(409);
    expect(JSON.parse(again.body).error.code).toBe('bot_not_locked');
    const unknown = await api.handle(request('POST', `${ROUTES.adminBots}/nobody/lock`, {}, admin));
    expect(unknown.status).toBe(404);
    expect((await api.handle(request('GET', ROUTES.adminLocks))).status).toBe(401);
    const listed2 = await api.handle(request('GET', ROUTES.adminLocks, undefined, admin));
    expect(JSON.parse(listed2.body)).toEqual({ locks: [] });
  });

  it('hides unexpected errors behind a generic 500 with the request id', async () => {
    const { router: api, fixture } = await router();
    (fixture.storage as unknown as { list: () => never }).list = () => {
      throw new Error('disk exploded at /secret/path');
    };
    const response = await api.handle(request('GET', ROUTES.adminStatus, undefined, admin));
    expect(response.status).toBe(500);
    const body = JSON.parse(response.body);
    expect(body.error).toMatchObject({ code: 'internal_error', request_id: 'req-1' });
    expect(response.body).not.toContain('/secret/path');
  });

  it('creates resources all-or-nothing and refuses overwrites without force', async () => {
    const { router: api } = await router();
    const role = {
      kind: 'role',
      version: 'v7',
      metadata: { name: 'new' },
      spec: { allow: { logins: ['ubuntu'] } },
    };
    const bad = { kind: 'role', version: 'v7', metadata: { name: 'bad name' }, spec: {} };
    const refused = await api.handle(
      request('PUT', ROUTES.adminResources, { resources: [role, bad] }, admin),
    );
    expect(refused.status).toBe(400);
    expect(
      (await api.handle(request('GET', `${ROUTES.adminResources}/role/new`, undefined, admin))).status,
    ).toBe(404);
    expect(
      (await api.handle(request('PUT', ROUTES.adminResources, { resources: [role] }, admin))).status,
    ).toBe(200);
    const again = await api.handle(request('PUT', ROUTES.adminResources, { resources: [role] }, admin));
    expect(again.status).toBe(409);
    expect(JSON.parse(again.body).error.message).toContain('--force');
    expect(
      (await api.handle(request('PUT', ROUTES.adminResources, { resources: [role], force: true }, admin)))
        .status,
    ).toBe(200);
  });
});

describe('applying resources', () => {
  it('accepts a bot together with the roles it holds, and writes nothing when one resource already exists', async () => {
    const fixture = await createFixture();
    const role = {
      kind: 'role',
      version: 'v7',
      metadata: { name: 'fresh' },
      spec: { allow: { logins: ['ubuntu'] } },
    };
    const bot = { kind: 'bot', version: 'v1', metadata: { name: 'fresh-bot' }, spec: { roles: ['fresh'] } };
    await fixture.service.admin.putResources([role, bot], false, 'test');
    const other = { kind: 'role', version: 'v7', metadata: { name: 'other' }, spec: {} };
    await expect(fixture.service.admin.putResources([other, role], false, 'test')).rejects.toMatchObject({
      code: 'already_exists',
    });
    await expect(fixture.service.admin.getResources('role', 'other')).rejects.toMatchObject({
      code: 'role_not_found',
    });
  });
});
