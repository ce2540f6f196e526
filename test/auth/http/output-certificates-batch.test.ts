import { X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  MAX_OUTPUTS_PER_BATCH,
  type OutputCertificatesBatchResponse,
} from '../../../lib/api/output-certificates.js';
import { ROUTES } from '../../../lib/api/routes.js';
import type { ApiResponse } from '../../../lib/auth/http/api-request.js';
import { MemoryBackend } from '../../../lib/auth/storage/memory-backend.js';
import type { ListOptions, StoredItem } from '../../../lib/auth/storage/storage-backend.js';
import { ManualClock } from '../../../lib/core/clock.js';
import { StorageError } from '../../../lib/core/errors.js';
import { createFixture, GRAFANA_APP, newPublicKeyPem, START } from '../auth-fixture.js';
import { fromBot, routerForBots } from './bot-routes.js';

/**
 * `POST /v1/bot/certificates/batch`: several outputs in one authenticated call. Each output is issued,
 * refused and audited as the single-output call would; only a failure of the service fails the call.
 */

function answerOf(response: ApiResponse): OutputCertificatesBatchResponse {
  return JSON.parse(response.body) as OutputCertificatesBatchResponse;
}

/** A memory backend whose node list fails, as DynamoDB does when it is unreachable. */
class FailingListBackend extends MemoryBackend {
  failLists = false;

  override async list(prefix: string, options?: ListOptions): Promise<StoredItem[]> {
    if (this.failLists) throw new StorageError('storage_unavailable', 'the table cannot be reached');
    return super.list(prefix, options);
  }
}

async function setup() {
  const clock = new ManualClock(START);
  const storage = new FailingListBackend(clock);
  const fixture = await createFixture(storage, clock);
  await fixture.service.admin.putResources([GRAFANA_APP], false, 'test');
  const { signer } = await fixture.join(await fixture.addBot('robot', ['ops', 'apps']));
  const api = routerForBots(fixture.service);
  const issued = () => fixture.service.admin.events({ type: 'cert.issue', limit: 100 });
  return { fixture, storage, signer, api, issued };
}

describe('a batch of outputs', () => {
  it('answers each output in request order: certificates for the allowed, the refusal for the others', async () => {
    const { api, signer, issued } = await setup();
    const body = {
      outputs: [
        { output: 'identity', public_key: newPublicKeyPem() },
        { output: 'application', app_name: 'payroll', public_key: newPublicKeyPem() },
        { output: 'application', app_name: 'grafana', public_key: newPublicKeyPem(), roles: ['ops'] },
        { output: 'application', app_name: 'grafana', public_key: newPublicKeyPem() },
      ],
    };

    const response = await api.handle(fromBot(signer.request(ROUTES.botCertificatesBatch, body)));

    expect(response.status).toBe(200);
    const { outputs } = answerOf(response);
    expect(outputs).toEqual([
      { certificates: expect.objectContaining({ output: 'identity', bot_name: 'robot' }) },
      {
        error: {
          code: 'app_not_found',
          status: 404,
          message: expect.stringContaining('app "payroll" does not exist'),
        },
      },
      { error: expect.objectContaining({ code: 'app_not_allowed', status: 403 }) },
      { certificates: expect.objectContaining({ output: 'application', app: expect.anything() }) },
    ]);
    const granted = outputs.flatMap((result) => ('certificates' in result ? [result.certificates] : []));
    const app = new X509Certificate(granted[1]?.tls_cert as string);
    expect(app.subjectAltName).toBe('URI:mid://example.test/apps/grafana');
    expect(granted[0]?.serial).not.toBe(granted[1]?.serial);
    // Every output leaves its own record, as four single calls would.
    const events = await issued();
    expect(events.map((event) => [event.outcome, event.code ?? 'ok'])).toEqual(
      expect.arrayContaining([
        ['success', 'ok'],
        ['failure', 'app_not_found'],
        ['failure', 'app_not_allowed'],
        ['success', 'ok'],
      ]),
    );
    expect(events).toHaveLength(4);
  });

  it.each([
    ['no outputs', { outputs: [] }, 'body.outputs'],
    [
      `more than ${MAX_OUTPUTS_PER_BATCH} outputs`,
      {
        outputs: Array.from({ length: MAX_OUTPUTS_PER_BATCH + 1 }, () => ({
          output: 'identity',
          public_key: 'x',
        })),
      },
      'body.outputs',
    ],
    [
      'a single output body',
      { output: 'identity', public_key: 'x' },
      'body: unknown keys "output", "public_key"; did you mean "outputs" for "output"?',
    ],
    [
      'an output of an unknown kind',
      { outputs: [{ output: 'database', public_key: 'x' }] },
      'body.outputs[0].output',
    ],
  ])('refuses a body with %s as a whole, naming the field, and audits it', async (_what, body, field) => {
    const { api, signer, issued } = await setup();

    const response = await api.handle(fromBot(signer.request(ROUTES.botCertificatesBatch, body)));

    expect(response.status).toBe(400);
    const { error } = JSON.parse(response.body) as { error: { code: string; message: string } };
    expect(error).toMatchObject({ code: 'invalid_body', message: expect.stringContaining(field) });
    expect(await issued()).toEqual([
      expect.objectContaining({ outcome: 'failure', code: 'invalid_body', bot: 'robot' }),
    ]);
  });

  it('fails as a whole when storage fails: nothing is handed out, what was issued meanwhile is on record', async () => {
    const { api, signer, storage, issued } = await setup();
    storage.failLists = true;
    const body = {
      outputs: [
        { output: 'application', app_name: 'grafana', public_key: newPublicKeyPem() },
        { output: 'identity', public_key: newPublicKeyPem() },
      ],
    };

    const response = await api.handle(fromBot(signer.request(ROUTES.botCertificatesBatch, body)));

    expect(response.status).toBe(503);
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'storage_unavailable' } });
    storage.failLists = false;
    // The application output needed no list and was issued (its key never left the bot); the audit log
    // says so, and the bot asks again on its next attempt.
    const events = await issued();
    expect(events).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ outcome: 'success', output: 'application' }),
        expect.objectContaining({ outcome: 'failure', output: 'identity', code: 'storage_unavailable' }),
      ]),
    );
    expect(events).toHaveLength(2);
  });

  it('is for bot identities only, like every bot call', async () => {
    const { api, signer } = await setup();
    const body = { outputs: [{ output: 'identity', public_key: newPublicKeyPem() }] };
    const signed = signer.request(ROUTES.botCertificatesBatch, body);

    const tampered = {
      ...signed,
      body: Buffer.from(JSON.stringify({ outputs: [...body.outputs, ...body.outputs] })),
    };
    const response = await api.handle(fromBot(tampered));

    expect(response.status).toBe(401);
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'bad_signature' } });
  });
});
