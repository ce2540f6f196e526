import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbBackend } from '../../lib/auth/storage/dynamodb-backend.js';
import { createDynamoDbClient } from '../../lib/auth/storage/dynamodb-client.js';
import { createDynamoDbTable } from '../../lib/auth/storage/dynamodb-table.js';
import { InvocationDeadline } from '../../lib/core/invocation-deadline.js';
import { requestHandlerWithTimeouts } from '../../lib/core/sdk-call-timeouts.js';
import { AWS_TEST_CREDENTIALS, AWS_TEST_REGION } from '../support/aws-test-credentials.js';
import { type RunningDynalite, startDynalite } from '../support/dynalite.js';
import { type LoopbackServer, readBody, startLoopbackServer } from '../support/loopback-server.js';

/** Short SDK attempts, so that the retry of a held attempt comes due within the test. */
const ATTEMPT_TIMEOUT_MS = 600;

/**
 * A request that gives up on DynamoDB at its deadline must not have its write land later through the
 * SDK's retries: the caller was told it failed, and may have written since (an operator who took a
 * role away after a `storage_timeout`, only to see the late retry of the earlier put restore it).
 */
describe('a storage call given up at the request deadline', () => {
  let dynalite: RunningDynalite;
  let proxy: LoopbackServer;
  const forwarded: string[] = [];
  let held = false;

  beforeAll(async () => {
    dynalite = await startDynalite();
    const config = {
      region: AWS_TEST_REGION,
      endpoint: dynalite.endpoint,
      credentials: { ...AWS_TEST_CREDENTIALS },
    };
    const setup = createDynamoDbClient(config);
    await createDynamoDbTable(setup, 'late');
    setup.destroy();
    // DynamoDB slow once: the first attempt of each "held" put never gets an answer.
    proxy = await startLoopbackServer(async (req, res) => {
      const body = await readBody(req, 1_000_000);
      const value = /"value":\{"S":"([^"]*)"/.exec(body.toString())?.[1] ?? '';
      if (value.startsWith('held') && !held) {
        held = true;
        return new Promise<void>(() => {});
      }
      forwarded.push(value);
      await new Promise<void>((resolve, reject) => {
        const upstream = request(
          `${dynalite.endpoint}${req.url}`,
          { method: req.method, headers: req.headers },
          (answer) => {
            res.writeHead(answer.statusCode ?? 500, answer.headers);
            answer.pipe(res).on('finish', resolve);
          },
        );
        upstream.on('error', reject);
        upstream.end(body);
      });
    });
  });

  afterAll(async () => {
    await proxy?.stop();
    await dynalite?.stop();
  });

  async function scenario(withDeadlineRetries: boolean): Promise<string | undefined> {
    held = false;
    forwarded.length = 0;
    const deadline = new InvocationDeadline();
    const current = () => deadline.current();
    const client = createDynamoDbClient(
      {
        region: AWS_TEST_REGION,
        endpoint: proxy.url,
        credentials: { ...AWS_TEST_CREDENTIALS },
        requestHandler: requestHandlerWithTimeouts({
          connectionTimeoutMs: 500,
          requestTimeoutMs: ATTEMPT_TIMEOUT_MS,
        }),
      },
      withDeadlineRetries ? { deadline: current } : {},
    );
    const backend = new DynamoDbBackend({ client, tableName: 'late', deadline: current });
    const key = `bots/robot-${withDeadlineRetries}`;

    const first = await deadline
      .run(200, () => backend.put({ key, value: 'held-roles-admin' }))
      .catch((error: unknown) => error);
    expect(first).toMatchObject({ code: 'storage_timeout' });
    await deadline.run(5_000, () => backend.put({ key, value: 'roles-readonly' }));
    // Past the held attempt's timeout and the SDK's backoff before a retry.
    await new Promise((resolve) => setTimeout(resolve, ATTEMPT_TIMEOUT_MS * 3));
    const final = await deadline.run(5_000, () => backend.get(key));
    client.destroy();
    return final?.value;
  }

  it('is not retried by the SDK afterwards, so a later write stands', async () => {
    expect(await scenario(true)).toBe('roles-readonly');
    expect(forwarded).not.toContain('held-roles-admin');
  }, 20_000);

  it('would be, with the SDK retrying as usual: what the test above rules out', async () => {
    expect(await scenario(false)).toBe('held-roles-admin');
    expect(forwarded).toContain('held-roles-admin');
  }, 20_000);
});
