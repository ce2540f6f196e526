import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient, ApiError } from '../../lib/api/api-client.js';
import { ROUTES } from '../../lib/api/routes.js';
import type { HttpApiHandler, LambdaHttpAdapter } from '../support/lambda-http-adapter.js';
import { type LoopbackServer, startLoopbackServer } from '../support/loopback-server.js';
import { createOpensslCa, type OpensslCa } from '../support/openssl-ca.js';
import {
  type ServerlessStandIns,
  startApiGatewayStandIn,
  startServerlessStandIns,
} from '../support/serverless-stand-ins.js';

const ACCOUNT = '123456789012';
/** Short for the test; the stack's is 29 s. The handler gives up 1.5 s before it. */
const FUNCTION_TIMEOUT_MS = 3_000;

/**
 * The real auth Lambda handler whose DynamoDB takes every request and never answers (the SDK's own
 * timeouts alone would hold a call 15 s, across its three attempts): it answers the caller with its
 * own error before the function's timeout, instead of being cut off with API Gateway's bare 500.
 */
describe('auth Lambda: a request whose storage calls outlast the function', () => {
  let dir: string;
  let standIns: ServerlessStandIns;
  let silentDynamoDb: LoopbackServer;
  let ca: OpensslCa;
  let adapter: LambdaHttpAdapter;
  let dynamoDbRequests = 0;
  const saved = { ...process.env };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mid-auth-deadline-'));
    standIns = await startServerlessStandIns({
      region: 'us-east-1',
      account: ACCOUNT,
      clusterName: 'deadline.test',
      functionName: 'machine-id-bot-robot',
      bot: {
        accessKeyId: 'ASIABOTLAMBDAROLE001',
        secretAccessKey: 'bot-lambda-secret',
        sessionToken: 'bot-lambda-session',
        arn: `arn:aws:sts::${ACCOUNT}:assumed-role/robot-bot-role/machine-id-bot-robot`,
        account: ACCOUNT,
        userId: 'AROAROBOTROLE:machine-id-bot-robot',
      },
    });
    silentDynamoDb = await startLoopbackServer(() => {
      dynamoDbRequests += 1;
      return new Promise<void>(() => {});
    });
    Object.assign(process.env, standIns.environment, { AWS_ENDPOINT_URL_DYNAMODB: silentDynamoDb.url });
    const { handler } = (await import('../../lambdas/auth.js')) as { handler: HttpApiHandler };
    ca = await createOpensslCa(dir, 'api gateway stand-in');
    adapter = await startApiGatewayStandIn(ca, handler, { functionTimeoutMs: FUNCTION_TIMEOUT_MS });
  });

  afterAll(async () => {
    await adapter?.stop();
    await silentDynamoDb?.stop();
    await standIns?.stop();
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers 503 storage_timeout, naming the table and the fix, before the function times out', async () => {
    const client = new ApiClient({ baseUrl: adapter.url, ca: ca.certPem });
    const started = performance.now();

    const error = await client
      .call({ method: 'POST', path: ROUTES.joinChallenge })
      .catch((thrown: unknown) => thrown)
      .finally(() => client.close());

    const waited = performance.now() - started;
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ httpStatus: 503, code: 'storage_timeout' });
    expect((error as Error).message).toContain(
      `DynamoDB had not answered dynamodb:PutItem on table ${standIns.tableName} when this request's time ran out`,
    );
    expect((error as Error).message).toContain("check DynamoDB's health in this region");
    expect(dynamoDbRequests).toBeGreaterThanOrEqual(1);
    // Given up at the deadline, 1.5 s before the function's timeout (the cold start comes first).
    expect(waited).toBeLessThan(FUNCTION_TIMEOUT_MS);
  }, 20_000);
});
