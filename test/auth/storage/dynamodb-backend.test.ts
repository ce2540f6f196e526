import {
  DeleteTableCommand,
  type DynamoDBClient,
  type DynamoDBClientConfig,
  GetItemCommand,
} from '@aws-sdk/client-dynamodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DynamoDbBackend } from '../../../lib/auth/storage/dynamodb-backend.js';
import { createDynamoDbClient } from '../../../lib/auth/storage/dynamodb-client.js';
import { createDynamoDbTable } from '../../../lib/auth/storage/dynamodb-table.js';
import { ManualClock } from '../../../lib/core/clock.js';
import { StorageError } from '../../../lib/core/errors.js';
import { AWS_TEST_CREDENTIALS, AWS_TEST_REGION } from '../../support/aws-test-credentials.js';
import { type RunningDynalite, startDynalite } from '../../support/dynalite.js';
import { type LoopbackServer, readBody, startLoopbackServer } from '../../support/loopback-server.js';
import { describeStorageContract } from './storage-contract.js';

const T0 = Date.UTC(2030, 0, 1);

let dynalite: RunningDynalite;
let client: DynamoDBClient;
let tables = 0;

/** The client the auth Lambda builds, pointed at dynalite. */
function newClient(endpoint: string, config: Partial<DynamoDBClientConfig> = {}): DynamoDBClient {
  return createDynamoDbClient({
    region: AWS_TEST_REGION,
    endpoint,
    credentials: { ...AWS_TEST_CREDENTIALS },
    ...config,
  });
}

/** A new empty table: dynalite creates one in a few milliseconds, so every test gets its own. */
async function freshTable(): Promise<string> {
  tables += 1;
  const tableName = `mid-auth-test-${tables}`;
  await createDynamoDbTable(client, tableName);
  return tableName;
}

async function dropTable(tableName: string): Promise<void> {
  await client.send(new DeleteTableCommand({ TableName: tableName }));
}

beforeAll(async () => {
  dynalite = await startDynalite();
  client = newClient(dynalite.endpoint);
});

afterAll(async () => {
  client.destroy();
  await dynalite.stop();
});

describeStorageContract('DynamoDbBackend', async (clock) => {
  const tableName = await freshTable();
  const backend = new DynamoDbBackend({ client, tableName, clock });
  return {
    backend,
    cleanup: async () => {
      await backend.close();
      await dropTable(tableName);
    },
  };
});

describe('DynamoDbBackend', () => {
  let clock: ManualClock;
  let tableName: string;
  let backend: DynamoDbBackend;

  beforeEach(async () => {
    clock = new ManualClock(T0);
    tableName = await freshTable();
    backend = new DynamoDbBackend({ client, tableName, clock });
  });

  afterEach(async () => {
    await backend.close();
    await dropTable(tableName);
  });

  async function rawItem(key: string) {
    const collection = key.slice(0, key.indexOf('/'));
    const { Item } = await client.send(
      new GetItemCommand({
        TableName: tableName,
        Key: { pk: { S: collection }, sk: { S: key } },
        ConsistentRead: true,
      }),
    );
    return Item;
  }

  it('stores items in the documented layout, with the TTL attribute in seconds rounded up', async () => {
    const item = await backend.put({ key: 'tokens/abc', value: '{"bot":"robot"}', expiresAt: T0 + 1500 });
    await backend.put({ key: 'bots/robot', value: '{}' });

    expect(await rawItem('tokens/abc')).toEqual({
      pk: { S: 'tokens' },
      sk: { S: 'tokens/abc' },
      value: { S: '{"bot":"robot"}' },
      revision: { S: item.revision },
      expires_at: { N: String(T0 + 1500) },
      ttl: { N: String(T0 / 1000 + 2) },
    });
    expect(Object.keys((await rawItem('bots/robot')) ?? {}).sort()).toEqual([
      'pk',
      'revision',
      'sk',
      'value',
    ]);
  });

  it('hides an item that DynamoDB still holds after its expires_at, for every operation', async () => {
    const item = await backend.put({ key: 'challenges/c1', value: '{}', expiresAt: T0 + 1000 });
    clock.set(T0 + 1000);

    // TTL has not removed it (DynamoDB may take days): the backend's own clock must hide it.
    expect(await rawItem('challenges/c1')).toBeDefined();
    expect(await backend.get('challenges/c1')).toBeUndefined();
    expect(await backend.list('challenges/')).toEqual([]);
    expect(await backend.delete('challenges/c1', item.revision)).toBe(false);
    expect(
      await backend.compareAndSwap({ key: 'challenges/c1', value: '{}' }, item.revision),
    ).toBeUndefined();
    expect(await rawItem('challenges/c1')).toMatchObject({ revision: { S: item.revision } });

    const recreated = await backend.create({ key: 'challenges/c1', value: '{"v":2}' });
    expect(recreated).toBeDefined();
    expect(await backend.get('challenges/c1')).toEqual(recreated);
  });

  it('reports a missing table as storage_unavailable, naming the table', async () => {
    const missing = new DynamoDbBackend({ client, tableName: 'mid-no-such-table', clock });
    const operations = [
      () => missing.get('bots/robot'),
      () => missing.put({ key: 'bots/robot', value: '{"secret":"s3cr3t-value"}' }),
      () => missing.create({ key: 'bots/robot', value: '{"secret":"s3cr3t-value"}' }),
      () => missing.compareAndSwap({ key: 'bots/robot', value: '{}' }, 'r1'),
      () => missing.delete('bots/robot'),
      () => missing.list('bots/'),
    ];

    for (const operation of operations) {
      const error = await operation().then(
        () => undefined,
        (thrown: unknown) => thrown,
      );
      expect(error).toBeInstanceOf(StorageError);
      expect(error).toMatchObject({
        code: 'storage_unavailable',
        message: expect.stringContaining('mid-no-such-table'),
      });
      expect((error as Error).message).toMatch(/does not exist/);
      expect((error as Error).message).not.toContain('s3cr3t');
    }
  });

  it('refuses keys and prefixes without a collection to use as the partition key', async () => {
    await expect(backend.put({ key: '/robot', value: '{}' })).rejects.toMatchObject({
      code: 'storage_invalid_key',
    });
    await expect(backend.list('bots')).rejects.toMatchObject({ code: 'storage_invalid_key' });
  });

  it('pages through more than 1 MB of items', async () => {
    const big = 'x'.repeat(300_000);
    const keys = Array.from({ length: 12 }, (_, i) => `blobs/${String(i).padStart(2, '0')}`);
    for (const key of keys) await backend.put({ key, value: JSON.stringify({ key, big }) });

    const all = await backend.list('blobs/');
    expect(all.map((item) => item.key)).toEqual(keys);
    expect(all.every((item) => item.value.length > 300_000)).toBe(true);
    expect((await backend.list('blobs/', { reverse: true, limit: 5 })).map((item) => item.key)).toEqual(
      [...keys].reverse().slice(0, 5),
    );
  });

  it('pages with a tiny page size, skipping expired items and counting only live ones', async () => {
    const paged = new DynamoDbBackend({ client, tableName, clock, pageSize: 2 });
    const keys = Array.from({ length: 30 }, (_, i) => `events/${String(i).padStart(3, '0')}`);
    for (const [i, key] of keys.entries()) {
      // Every third item expires, and a run of ten in the middle.
      const expiring = i % 3 === 0 || (i >= 10 && i < 20);
      await paged.put({ key, value: '{}', ...(expiring ? { expiresAt: T0 + 10 } : {}) });
    }
    await paged.put({ key: 'eventsx/1', value: '{}' });
    clock.advance(10);
    const live = keys.filter((_, i) => !(i % 3 === 0 || (i >= 10 && i < 20)));

    expect((await paged.list('events/')).map((item) => item.key)).toEqual(live);
    expect((await paged.list('events/', { limit: 7 })).map((item) => item.key)).toEqual(live.slice(0, 7));
    expect((await paged.list('events/', { limit: 4, reverse: true })).map((item) => item.key)).toEqual(
      [...live].reverse().slice(0, 4),
    );
    // The limit path without a page size grows its pages over the expired run and still stops on time.
    expect((await backend.list('events/', { limit: 5 })).map((item) => item.key)).toEqual(live.slice(0, 5));
  });

  describe('reads and writes side by side', () => {
    // These tests watch (and tamper with) the client's calls through middleware added between calls,
    // which a client that resolves its middleware once (the Lambda's, `cacheMiddleware`) would ignore.
    let probed: DynamoDBClient;

    beforeEach(async () => {
      probed = newClient(dynalite.endpoint, { cacheMiddleware: false });
      await backend.close();
      backend = new DynamoDbBackend({ client: probed, tableName, clock });
    });

    afterEach(() => {
      probed.destroy();
    });

    /** The operations the backend's client sends from now on, by command name. */
    function recordOperations(): string[] {
      const operations: string[] = [];
      probed.middlewareStack.add(
        (next, context) => async (args) => {
          operations.push(String(context.commandName));
          return next(args);
        },
        { step: 'initialize', name: `record-${tableName}` },
      );
      return operations;
    }

    it('go out as one BatchGetItem: each key once, found and missing ones answered alike', async () => {
      await backend.put({ key: 'bots/robot', value: '{"bot":1}' });
      await backend.put({ key: 'instances/robot/1', value: '{"instance":1}' });
      const operations = recordOperations();

      const [bot, instance, missing, botAgain] = await Promise.all([
        backend.get('bots/robot'),
        backend.get('instances/robot/1'),
        backend.get('tokens/none'),
        backend.get('bots/robot'),
      ]);

      expect(operations).toEqual(['BatchGetItemCommand']);
      expect(bot).toMatchObject({ key: 'bots/robot', value: '{"bot":1}' });
      expect(botAgain).toEqual(bot);
      expect(instance).toMatchObject({ key: 'instances/robot/1', value: '{"instance":1}' });
      expect(missing).toBeUndefined();
    });

    it('hide expired items, and a read alone is still one GetItem', async () => {
      await backend.put({ key: 'nonces/a', value: '{}', expiresAt: T0 + 1_000 });
      await backend.put({ key: 'nonces/b', value: '{}', expiresAt: T0 + 5_000 });
      clock.advance(2_000);
      const operations = recordOperations();

      const [a, b] = await Promise.all([backend.get('nonces/a'), backend.get('nonces/b')]);
      const alone = await backend.get('nonces/b');

      expect(a).toBeUndefined();
      expect(b).toMatchObject({ key: 'nonces/b' });
      expect(alone).toEqual(b);
      expect(operations).toEqual(['BatchGetItemCommand', 'GetItemCommand']);
    });

    it('see the writes that came before them (strongly consistent)', async () => {
      const created = await backend.create({ key: 'iam_challenges/x', value: '{"n":1}' });
      if (created === undefined) throw new Error('not created');
      await backend.compareAndSwap({ key: 'iam_challenges/x', value: '{"n":2}' }, created.revision);
      const [challenge] = await Promise.all([backend.get('iam_challenges/x'), backend.get('bots/none')]);
      expect(challenge?.value).toBe('{"n":2}');
    });

    it('split more than 100 keys into several batches', async () => {
      const keys = Array.from({ length: 130 }, (_, index) => `roles/r${index}`);
      for (const key of keys.slice(0, 3)) await backend.put({ key, value: `"${key}"` });
      const operations = recordOperations();

      const items = await Promise.all(keys.map((key) => backend.get(key)));

      expect(operations).toEqual(['BatchGetItemCommand', 'BatchGetItemCommand']);
      expect(items.filter((item) => item !== undefined).map((item) => item?.value)).toEqual([
        '"roles/r0"',
        '"roles/r1"',
        '"roles/r2"',
      ]);
    });

    it('write puts made side by side with one BatchWriteItem, a key twice in order', async () => {
      const operations = recordOperations();

      const [first, , second] = await Promise.all([
        backend.put({ key: 'events/1', value: '"one"' }),
        backend.put({ key: 'events/2', value: '"two"', expiresAt: T0 + 60_000 }),
        backend.put({ key: 'events/1', value: '"one again"' }),
      ]);

      expect(operations).toEqual(['BatchWriteItemCommand', 'BatchWriteItemCommand']);
      expect(first.revision).not.toBe(second.revision);
      const stored = await Promise.all([backend.get('events/1'), backend.get('events/2')]);
      expect(stored.map((item) => item?.value)).toEqual(['"one again"', '"two"']);
      expect(stored[0]?.revision).toBe(second.revision);
      expect(stored[1]?.expiresAt).toBe(T0 + 60_000);
    });

    it('write again the items DynamoDB left unprocessed', async () => {
      let leaveUnprocessed = 1;
      probed.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName === 'BatchWriteItemCommand' && leaveUnprocessed > 0) {
            leaveUnprocessed -= 1;
            // DynamoDB under throttling: nothing written, every request handed back.
            const input = args.input as { RequestItems: Record<string, unknown[]> };
            return {
              output: { $metadata: {}, UnprocessedItems: input.RequestItems },
              response: {},
            } as Awaited<ReturnType<typeof next>>;
          }
          return next(args);
        },
        { step: 'initialize', name: `record-${tableName}` },
      );

      await Promise.all([
        backend.put({ key: 'events/a', value: '"a"' }),
        backend.put({ key: 'events/b', value: '"b"' }),
      ]);

      expect(leaveUnprocessed).toBe(0);
      expect((await backend.get('events/a'))?.value).toBe('"a"');
      expect((await backend.get('events/b'))?.value).toBe('"b"');
    });

    it('ask again for keys DynamoDB left unprocessed, and give up with storage_throttled', async () => {
      await backend.put({ key: 'bots/robot', value: '{}' });
      await backend.put({ key: 'roles/ops', value: '{}' });
      let leaveUnprocessed = 2;
      probed.middlewareStack.add(
        (next, context) => async (args) => {
          const result = await next(args);
          if (context.commandName === 'BatchGetItemCommand' && leaveUnprocessed > 0) {
            leaveUnprocessed -= 1;
            const output = result.output as {
              Responses?: Record<string, unknown[]>;
              UnprocessedKeys?: unknown;
            };
            // DynamoDB under throttling: nothing read, every key handed back.
            const input = args.input as { RequestItems: Record<string, { Keys: unknown[] }> };
            output.Responses = { [tableName]: [] };
            output.UnprocessedKeys = {
              [tableName]: { Keys: input.RequestItems[tableName]?.Keys, ConsistentRead: true },
            };
          }
          return result;
        },
        { step: 'initialize', name: `record-${tableName}` },
      );

      const [bot, role] = await Promise.all([backend.get('bots/robot'), backend.get('roles/ops')]);
      expect(bot?.key).toBe('bots/robot');
      expect(role?.key).toBe('roles/ops');

      leaveUnprocessed = 100;
      await expect(Promise.all([backend.get('bots/robot'), backend.get('roles/ops')])).rejects.toMatchObject({
        code: 'storage_throttled',
        message: expect.stringContaining('BatchGetItem'),
      });
    });
  });

  it('lets exactly one of 100 parallel deletes of one revision succeed over real HTTP', async () => {
    const token = await backend.put({ key: 'tokens/once', value: '{}', expiresAt: T0 + 60_000 });

    const results = await Promise.all(
      Array.from({ length: 100 }, () => backend.delete('tokens/once', token.revision)),
    );

    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await rawItem('tokens/once')).toBeUndefined();
  });
});

/**
 * A proxy in front of dynalite that injects what dynalite cannot do: access denied, throttling, an answer
 * lost after the write landed, and DynamoDB's `ReturnValuesOnConditionCheckFailure: ALL_OLD` (dynalite
 * ignores the parameter, so the proxy adds the current item to a ConditionalCheckFailedException the way
 * DynamoDB does).
 */
type Fault = 'access-denied' | 'throttle' | 'lose-answer-once';

interface FaultProxy {
  server: LoopbackServer;
  faults: Map<string, Fault>;
  /** Operation names in the order they arrived. */
  calls: string[];
}

async function startFaultProxy(target: string): Promise<FaultProxy> {
  const faults = new Map<string, Fault>();
  const calls: string[] = [];
  const forward = async (headers: Record<string, string>, body: string) => {
    const response = await fetch(target, { method: 'POST', headers, body });
    return { status: response.status, text: await response.text() };
  };
  const server = await startLoopbackServer(async (req, res) => {
    const body = (await readBody(req, 10 * 1024 * 1024)).toString('utf8');
    const targetHeader = String(req.headers['x-amz-target'] ?? '');
    const operation = targetHeader.split('.')[1] ?? '';
    calls.push(operation);
    const headers: Record<string, string> = {
      'content-type': String(req.headers['content-type']),
      'x-amz-target': targetHeader,
      authorization: String(req.headers['authorization']),
      'x-amz-date': String(req.headers['x-amz-date']),
    };
    const reply = (status: number, payload: string) => {
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' });
      res.end(payload);
    };
    const fault = faults.get(operation);
    if (fault === 'access-denied') {
      reply(
        400,
        JSON.stringify({
          __type: 'com.amazon.coral.service#AccessDeniedException',
          Message: `User: arn:aws:sts::123456789012:assumed-role/auth/fn is not authorized to perform: dynamodb:${operation}`,
        }),
      );
      return;
    }
    if (fault === 'throttle') {
      reply(
        400,
        JSON.stringify({
          __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
          message: 'The level of configured provisioned throughput for the table was exceeded.',
        }),
      );
      return;
    }
    let answer = await forward(headers, body);
    if (fault === 'lose-answer-once') {
      faults.delete(operation);
      reply(500, JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError' }));
      return;
    }
    const request = JSON.parse(body) as {
      TableName?: string;
      Item?: Record<string, unknown>;
      ReturnValuesOnConditionCheckFailure?: string;
    };
    if (
      answer.text.includes('ConditionalCheckFailedException') &&
      request.ReturnValuesOnConditionCheckFailure
    ) {
      const current = await forward(
        { ...headers, 'x-amz-target': 'DynamoDB_20120810.GetItem' },
        JSON.stringify({
          TableName: request.TableName,
          Key: { pk: request.Item?.['pk'], sk: request.Item?.['sk'] },
          ConsistentRead: true,
        }),
      );
      const { Item } = JSON.parse(current.text) as { Item?: unknown };
      answer = { status: answer.status, text: JSON.stringify({ ...JSON.parse(answer.text), Item }) };
    }
    reply(answer.status, answer.text);
  });
  return { server, faults, calls };
}

describe('DynamoDbBackend behind faults', () => {
  let proxy: FaultProxy;
  let faultyClient: DynamoDBClient;
  let tableName: string;
  let backend: DynamoDbBackend;

  beforeEach(async () => {
    proxy = await startFaultProxy(dynalite.endpoint);
    // Two attempts keep the throttling test short while still showing that the SDK retried.
    faultyClient = newClient(proxy.server.url, { maxAttempts: 2 });
    tableName = await freshTable();
    backend = new DynamoDbBackend({ client: faultyClient, tableName, clock: new ManualClock(T0) });
  });

  afterEach(async () => {
    faultyClient.destroy();
    await proxy.server.stop();
    await dropTable(tableName);
  });

  it('reports access denied as storage_access_denied, naming the action and the table', async () => {
    proxy.faults.set('GetItem', 'access-denied');

    const error = await backend.get('bots/robot').catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(StorageError);
    expect(error).toMatchObject({ code: 'storage_access_denied' });
    expect((error as Error).message).toContain('dynamodb:GetItem');
    expect((error as Error).message).toContain(tableName);
    expect(proxy.calls).toEqual(['GetItem']);
  });

  it("reports throttling that outlasts the SDK's retries as storage_throttled", async () => {
    proxy.faults.set('PutItem', 'throttle');

    await expect(backend.put({ key: 'events/1', value: '{}' })).rejects.toMatchObject({
      code: 'storage_throttled',
      message: expect.stringContaining(tableName),
    });
    expect(proxy.calls).toEqual(['PutItem', 'PutItem']);
  });

  it('recognises its own compareAndSwap when the SDK retries one whose answer was lost', async () => {
    const first = await backend.put({ key: 'instances/robot/1', value: '{"generation":1}' });
    proxy.faults.set('PutItem', 'lose-answer-once');

    const swapped = await backend.compareAndSwap(
      { key: 'instances/robot/1', value: '{"generation":2}' },
      first.revision,
    );

    expect(proxy.calls.filter((call) => call === 'PutItem')).toHaveLength(3);
    expect(swapped).toMatchObject({ value: '{"generation":2}' });
    expect(await backend.get('instances/robot/1')).toEqual(swapped);
  });

  it('recognises its own create when the SDK retries one whose answer was lost', async () => {
    proxy.faults.set('PutItem', 'lose-answer-once');

    const created = await backend.create({ key: 'challenges/c1', value: '{}' });

    expect(created).toBeDefined();
    expect(await backend.get('challenges/c1')).toEqual(created);
  });

  it('still reports a lost race when the item handed back carries another revision', async () => {
    const first = await backend.put({ key: 'instances/robot/1', value: '{"generation":1}' });
    const other = await backend.put({ key: 'instances/robot/1', value: '{"generation":2}' });

    expect(
      await backend.compareAndSwap({ key: 'instances/robot/1', value: '{"generation":3}' }, first.revision),
    ).toBeUndefined();
    expect(await backend.create({ key: 'instances/robot/1', value: '{}' })).toBeUndefined();
    expect(await backend.get('instances/robot/1')).toEqual(other);
  });
});
