import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { OutputCertificatesBatchResponse } from '../../lib/api/output-certificates.js';
import { ROUTES } from '../../lib/api/routes.js';
import { MemoryBackend } from '../../lib/auth/storage/memory-backend.js';
import type { StoredItem } from '../../lib/auth/storage/storage-backend.js';
import { ManualClock } from '../../lib/core/clock.js';
import { StorageError } from '../../lib/core/errors.js';
import { CountingBackend } from '../support/counting-backend.js';
import { createFixture, GRAFANA_APP, newPublicKeyPem, START } from './auth-fixture.js';
import { fromBot, routerForBots } from './http/bot-routes.js';

/**
 * A renewal or an output reads the roles its caller's certificate names while the caller is being
 * authenticated (one round trip for both). The certificate only says what to read: what is granted
 * comes from the bot record read for the same call, so an operator's change of the bot's roles takes
 * effect at once.
 */

/** A memory backend whose reads of one key can be slowed down or made to fail. */
class SteeredBackend extends MemoryBackend {
  slowKey: string | undefined;
  failingKey: string | undefined;

  override async get(key: string): Promise<StoredItem | undefined> {
    if (key === this.failingKey) throw new StorageError('storage_unavailable', 'the table cannot be reached');
    if (key === this.slowKey) await sleep(50);
    return super.get(key);
  }
}

/** A bot `robot` joined holding `ops` and `apps`, whose certificate names both. */
async function setup() {
  const clock = new ManualClock(START);
  const steered = new SteeredBackend(clock);
  const counter = new CountingBackend(steered);
  const fixture = await createFixture(counter, clock);
  await fixture.service.admin.putResources([GRAFANA_APP], false, 'test');
  const { signer } = await fixture.join(await fixture.addBot('robot', ['ops', 'apps']));
  const api = routerForBots(fixture.service);
  const batch = async (outputs: unknown[]) => {
    const response = await api.handle(fromBot(signer.request(ROUTES.botCertificatesBatch, { outputs })));
    return { status: response.status, ...(JSON.parse(response.body) as OutputCertificatesBatchResponse) };
  };
  return { fixture, steered, counter, signer, api, batch };
}

describe('reads made ahead of the caller', () => {
  it('grants the roles the bot holds now, not those its certificate names', async () => {
    const { fixture, batch } = await setup();
    await fixture.service.admin.updateBot('robot', { set_roles: ['ops', 'kube'] }, 'test');

    const { outputs } = await batch([
      { output: 'identity', public_key: newPublicKeyPem() },
      { output: 'application', app_name: 'grafana', public_key: newPublicKeyPem(), roles: ['apps'] },
    ]);

    expect(outputs[0]).toEqual({
      certificates: expect.objectContaining({ roles: ['ops', 'kube'] }),
    });
    expect(outputs[1]).toEqual({ error: expect.objectContaining({ code: 'role_not_held' }) });
  });

  it('refuses outputs while a role the bot gained since its certificate is locked', async () => {
    const { fixture, batch } = await setup();
    await fixture.service.admin.updateBot('robot', { add_roles: ['kube'] }, 'test');
    await fixture.service.roleLocks.lock('kube', { message: 'cluster breach' }, 'test');

    const { outputs } = await batch([{ output: 'identity', public_key: newPublicKeyPem() }]);

    expect(outputs[0]).toEqual({
      error: expect.objectContaining({ code: 'role_locked', message: expect.stringContaining('"kube"') }),
    });
  });

  it('renews with the roles the bot holds now', async () => {
    const { fixture, signer, api } = await setup();
    await fixture.service.admin.updateBot('robot', { set_roles: ['kube'] }, 'test');

    const response = await api.handle(
      fromBot(signer.request(ROUTES.botRenew, { public_key: newPublicKeyPem() })),
    );

    expect(response.status).toBe(200);
    expect(JSON.parse(response.body)).toMatchObject({ roles: ['kube'], generation: 2 });
  });

  it('answers only once a read it made ahead and did not use is back', async () => {
    const { fixture, steered, counter, batch } = await setup();
    // `apps` is still named by the certificate and read ahead, slowly; nothing awaits it any more.
    await fixture.service.admin.updateBot('robot', { set_roles: ['ops'] }, 'test');
    steered.slowKey = 'roles/apps';
    counter.reset();

    const { status } = await batch([{ output: 'identity', public_key: newPublicKeyPem() }]);

    expect(status).toBe(200);
    expect(counter.calls().map((call) => `${call.operation} ${call.key}`)).toContain('get roles/apps');
    // Throws while a call is in flight.
    expect(() => counter.reset()).not.toThrow();
  });

  it('refuses a replayed request as one, whatever a read made ahead of it found', async () => {
    const { steered, signer, api } = await setup();
    const body = { outputs: [{ output: 'identity', public_key: newPublicKeyPem() }] };
    const signed = signer.request(ROUTES.botCertificatesBatch, body);
    expect((await api.handle(fromBot(signed))).status).toBe(200);
    steered.failingKey = 'roles/ops';

    const replayed = await api.handle(fromBot(signed));

    expect(replayed.status).toBe(401);
    expect(JSON.parse(replayed.body)).toMatchObject({ error: { code: 'replayed_request' } });
  });

  it('fails the call when a role it needs cannot be read, as without reading ahead', async () => {
    const { steered, signer, api } = await setup();
    steered.failingKey = 'roles/ops';

    const response = await api.handle(
      fromBot(
        signer.request(ROUTES.botCertificatesBatch, {
          outputs: [{ output: 'identity', public_key: newPublicKeyPem() }],
        }),
      ),
    );

    expect(response.status).toBe(503);
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'storage_unavailable' } });
  });
});
