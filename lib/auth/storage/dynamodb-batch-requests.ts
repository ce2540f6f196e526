import {
  type AttributeValue,
  BatchGetItemCommand,
  type BatchGetItemCommandOutput,
  BatchWriteItemCommand,
  type BatchWriteItemCommandOutput,
  type DynamoDBClient,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { StorageError } from '../../core/errors.js';

type Attributes = Record<string, AttributeValue>;

/** BatchGetItem takes at most this many keys. */
const MAX_BATCH_GET_KEYS = 100;
/** BatchWriteItem takes at most this many requests, none two for one key. */
const MAX_BATCH_WRITE_ITEMS = 25;
/** Rounds of items a batch left unprocessed (throttling) before the request fails. */
const UNPROCESSED_ROUNDS = 5;

/** Where batches go, and how the backend sends one SDK command (its closed check and error mapping). */
export interface BatchTarget {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  call<T>(operation: string, send: () => Promise<T>): Promise<T>;
}

/**
 * The items of `keys` that exist, read strongly consistent (a single-use token or challenge read
 * stale could be accepted twice), in as many BatchGetItem requests as the keys need. Keys DynamoDB
 * leaves unprocessed are asked again after a jittered wait.
 */
export async function batchGetItems(target: BatchTarget, keys: readonly Attributes[]): Promise<Attributes[]> {
  const found: Attributes[] = [];
  for (let start = 0; start < keys.length; start += MAX_BATCH_GET_KEYS) {
    await untilProcessed(
      target,
      'BatchGetItem',
      keys.slice(start, start + MAX_BATCH_GET_KEYS),
      async (asked) => {
        const output: BatchGetItemCommandOutput = await target.call('BatchGetItem', () =>
          target.client.send(
            new BatchGetItemCommand({
              RequestItems: { [target.tableName]: { Keys: asked, ConsistentRead: true } },
            }),
          ),
        );
        found.push(...(output.Responses?.[target.tableName] ?? []));
        return output.UnprocessedKeys?.[target.tableName]?.Keys ?? [];
      },
    );
  }
  return found;
}

/**
 * Unconditional puts in as few BatchWriteItem requests as DynamoDB allows: at most 25 each, and a key
 * at most once per request (the later put of a key goes in a later request, so it wins, as it would
 * one after the other). Items DynamoDB leaves unprocessed are written again after a jittered wait.
 */
export async function batchPutItems(
  target: BatchTarget,
  items: ReadonlyArray<{ readonly key: string; readonly attributes: Attributes }>,
): Promise<void> {
  for (const batch of writeBatches(items)) {
    const requests: WriteRequest[] = batch.map((item) => ({ PutRequest: { Item: item.attributes } }));
    await untilProcessed(target, 'BatchWriteItem', requests, async (asked) => {
      const output: BatchWriteItemCommandOutput = await target.call('BatchWriteItem', () =>
        target.client.send(new BatchWriteItemCommand({ RequestItems: { [target.tableName]: asked } })),
      );
      return output.UnprocessedItems?.[target.tableName] ?? [];
    });
  }
}

/** Sends `first`, then what each answer left unprocessed, until nothing is left or the rounds run out. */
async function untilProcessed<T>(
  target: BatchTarget,
  operation: string,
  first: T[],
  send: (items: T[]) => Promise<T[]>,
): Promise<void> {
  let unprocessed = first;
  for (let round = 0; unprocessed.length > 0; round += 1) {
    if (round === UNPROCESSED_ROUNDS) {
      throw new StorageError(
        'storage_throttled',
        `DynamoDB left ${unprocessed.length} items of a dynamodb:${operation} on table ${target.tableName} ` +
          `unprocessed after ${UNPROCESSED_ROUNDS} rounds. Retry later; if it persists, check the table's ` +
          "capacity mode and the account's DynamoDB quotas.",
      );
    }
    // Full jitter over an exponential ceiling, as AWS recommends for unprocessed batch items.
    if (round > 0) await sleep(Math.random() * Math.min(1_000, 25 * 2 ** round));
    unprocessed = await send(unprocessed);
  }
}

function writeBatches<T extends { readonly key: string }>(items: readonly T[]): T[][] {
  const batches: T[][] = [];
  for (const item of items) {
    const batch = batches.find(
      (candidate) =>
        candidate.length < MAX_BATCH_WRITE_ITEMS && !candidate.some((other) => other.key === item.key),
    );
    if (batch === undefined) batches.push([item]);
    else batch.push(item);
  }
  return batches;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
