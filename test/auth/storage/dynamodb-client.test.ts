import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDbBackend } from '../../../lib/auth/storage/dynamodb-backend.js';
import { createDynamoDbClient, DYNAMODB_TIMEOUTS } from '../../../lib/auth/storage/dynamodb-client.js';
import { createDynamoDbTable } from '../../../lib/auth/storage/dynamodb-table.js';
import { StorageError } from '../../../lib/core/errors.js';
import { InvocationDeadline } from '../../../lib/core/invocation-deadline.js';
import { AWS_TEST_CREDENTIALS, AWS_TEST_REGION } from '../../support/aws-test-credentials.js';
import { type RunningDynalite, startDynalite } from '../../support/dynalite.js';
import { type LoopbackServer, startLoopbackServer } from '../../support/loopback-server.js';

let dynalite: RunningDynalite;

beforeAll(async () => {
  dynalite = await startDynalite();
});

afterAll(async () => {
  await dynalite?.stop();
});

const testConfig = (endpoint: string) => ({
  region: AWS_TEST_REGION,
  endpoint,
  credentials: { ...AWS_TEST_CREDENTIALS },
});

describe('createDynamoDbClient', () => {
  it('resolves its middleware once per command class and does no per-call SDK logging', () => {
    const client = createDynamoDbClient(testConfig(dynalite.endpoint));

    expect(client.config.cacheMiddleware).toBe(true);
    // The SDK still calls it this: a plain client has it, so its absence below means something.
    const plain = new DynamoDBClient(testConfig(dynalite.endpoint));
    expect(plain.middlewareStack.identify().join('\n')).toContain('loggerMiddleware');
    plain.destroy();
    const middleware = client.middlewareStack.identify().join('\n');
    expect(middleware).not.toContain('loggerMiddleware');
    // What the calls need stays: signing, retries, (de)serialising, the Lambda trace header.
    for (const kept of [
      'httpSigningMiddleware',
      'retryMiddleware',
      'serializerMiddleware',
      'recursionDetection',
    ]) {
      expect(middleware).toContain(kept);
    }
    client.destroy();
  });

  it('answers calls of one command class side by side each with its own result', async () => {
    const client = createDynamoDbClient(testConfig(dynalite.endpoint));
    await createDynamoDbTable(client, 'mid-client-test');
    const backend = new DynamoDbBackend({ client, tableName: 'mid-client-test' });
    const keys = Array.from({ length: 40 }, (_, index) => `bots/robot-${index}`);
    await Promise.all(keys.map((key) => backend.put({ key, value: JSON.stringify({ key }) })));

    // One GetItem each, all in flight at once through the one cached middleware chain.
    const answers = await Promise.all(
      keys.map((key) =>
        client.send(
          new GetItemCommand({
            TableName: 'mid-client-test',
            Key: { pk: { S: 'bots' }, sk: { S: key } },
            ConsistentRead: true,
          }),
        ),
      ),
    );

    expect(answers.map((answer) => JSON.parse(answer.Item?.['value']?.S ?? '{}').key)).toEqual(keys);
    client.destroy();
  });

  it('gives up at the request deadline on a silent endpoint, single and batched calls, and sends nothing after it', async () => {
    let requests = 0;
    const silent: LoopbackServer = await startLoopbackServer(() => {
      requests += 1;
      return new Promise<void>(() => {});
    });
    const client = createDynamoDbClient(testConfig(silent.url));
    const deadline = new InvocationDeadline();
    const backend = new DynamoDbBackend({
      client,
      tableName: 'mid-client-test',
      deadline: () => deadline.current(),
    });
    const started = performance.now();

    const single = await deadline.run(300, () =>
      backend.get('bots/robot').catch((thrown: unknown) => thrown),
    );
    const batched = await deadline.run(300, () =>
      Promise.all([backend.get('bots/a'), backend.get('bots/b')]).catch((thrown: unknown) => thrown),
    );

    const waited = performance.now() - started;
    expect(single).toMatchObject({ code: 'storage_timeout' });
    expect((single as Error).message).toContain('dynamodb:GetItem on table mid-client-test');
    expect(batched).toMatchObject({ code: 'storage_timeout' });
    expect((batched as Error).message).toContain('dynamodb:BatchGetItem on table mid-client-test');
    expect(requests).toBe(2);
    // At the deadlines, not after the SDK's attempts of 5 s each.
    expect(waited).toBeLessThan(3_000);

    const late = await deadline.run(0, async () => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      return backend.put({ key: 'bots/late', value: '{}' }).catch((thrown: unknown) => thrown);
    });
    expect(late).toMatchObject({ code: 'storage_timeout' });
    expect(requests).toBe(2);
    client.destroy();
    await silent.stop();
  });

  it(
    'gives up on a DynamoDB endpoint that takes the request and never answers',
    async () => {
      const silent: LoopbackServer = await startLoopbackServer(() => new Promise<void>(() => {}));
      const client = createDynamoDbClient({ ...testConfig(silent.url), maxAttempts: 1 });
      const backend = new DynamoDbBackend({ client, tableName: 'mid-client-test' });
      const started = performance.now();

      const error = await backend.get('bots/robot').catch((thrown: unknown) => thrown);

      const waited = performance.now() - started;
      expect(error).toBeInstanceOf(StorageError);
      expect(waited).toBeGreaterThanOrEqual(DYNAMODB_TIMEOUTS.requestTimeoutMs - 100);
      expect(waited).toBeLessThan(DYNAMODB_TIMEOUTS.requestTimeoutMs + 3_000);
      client.destroy();
      await silent.stop();
    },
    DYNAMODB_TIMEOUTS.requestTimeoutMs + 10_000,
  );
});
