import {
  type AttributeValue,
  DeleteItemCommand,
  type DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type QueryCommandOutput,
} from '@aws-sdk/client-dynamodb';
import { type Clock, systemClock } from '../../core/clock.js';
import { StorageError } from '../../core/errors.js';
import type { Deadline } from '../../core/invocation-deadline.js';
import { type BatchTarget, batchGetItems, batchPutItems } from './dynamodb-batch-requests.js';
import { deadlinePassed, isConditionalCheckFailed, toStorageError } from './dynamodb-errors.js';
import {
  checkListAfter,
  type ItemInput,
  type ListOptions,
  type StorageBackend,
  type StoredItem,
  withNewRevision,
} from './storage-backend.js';
import { TurnBatch } from './turn-batch.js';

export interface DynamoDbBackendOptions {
  /** Built once per cold start by the caller, who also owns it: `close()` leaves it open. */
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** @default systemClock */
  readonly clock?: Clock;
  /**
   * The deadline of the request being served: calls still waiting when it passes, and later ones,
   * fail with `storage_timeout` (the auth Lambda's `InvocationDeadline`, lib/core/invocation-deadline.ts).
   * @default no deadline
   */
  readonly deadline?: () => Deadline | undefined;
  /**
   * The most items one Query page may evaluate. Only tests set it, to exercise pagination without
   * writing megabytes.
   * @internal
   * @default DynamoDB's own 1 MB pages
   */
  readonly pageSize?: number;
}

type Attributes = Record<string, AttributeValue>;

const LIVE = '(attribute_not_exists(#exp) OR #exp > :now)';

/**
 * {@link StorageBackend} on a DynamoDB table laid out as `createDynamoDbTable` (dynamodb-table.ts) describes.
 *
 * @example
 * const client = createDynamoDbClient(); // once per cold start (dynamodb-client.ts)
 * const storage = new DynamoDbBackend({ client, tableName: process.env.TABLE_NAME });
 */
export class DynamoDbBackend implements StorageBackend {
  private readonly client: DynamoDBClient;
  private readonly tableName: string;
  private readonly clock: Clock;
  private readonly deadline: () => Deadline | undefined;
  private readonly pageSize: number | undefined;
  private readonly batchTarget: BatchTarget;
  private readonly reads = new TurnBatch<string, Attributes | undefined>(async (keys) => {
    const found = await this.fetch([...new Set(keys)]);
    return keys.map((key) => found.get(key));
  });
  private readonly puts = new TurnBatch<StoredItem, void>(async (items) => {
    await this.write(items);
    return items.map(() => undefined);
  });
  private closed = false;

  constructor(options: DynamoDbBackendOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.clock = options.clock ?? systemClock;
    this.deadline = options.deadline ?? (() => undefined);
    this.pageSize = options.pageSize;
    this.batchTarget = {
      client: this.client,
      tableName: this.tableName,
      call: (operation, send) => this.call(operation, send),
    };
  }

  /**
   * Strongly consistent: a single-use token or challenge read stale could be accepted twice. Reads
   * asked for side by side go out as one BatchGetItem (see {@link TurnBatch}).
   */
  async get(key: string): Promise<StoredItem | undefined> {
    const attributes = await this.reads.add(key);
    if (attributes === undefined) return undefined;
    const item = this.toItem(attributes);
    return item.expiresAt !== undefined && item.expiresAt <= this.clock.now() ? undefined : item;
  }

  /** The items of `keys` that exist, by key: one GetItem for one key, BatchGetItem for more. */
  private async fetch(keys: readonly string[]): Promise<Map<string, Attributes>> {
    const found = new Map<string, Attributes>();
    if (keys.length === 1) {
      const [key] = keys as [string];
      const output = await this.call('GetItem', () =>
        this.client.send(
          new GetItemCommand({ TableName: this.tableName, Key: primaryKey(key), ConsistentRead: true }),
        ),
      );
      if (output.Item !== undefined) found.set(key, output.Item);
      return found;
    }
    for (const attributes of await batchGetItems(this.batchTarget, keys.map(primaryKey))) {
      const key = stringOf(attributes['sk']);
      if (key !== undefined) found.set(key, attributes);
    }
    return found;
  }

  /** Puts made side by side go out as one BatchWriteItem (see {@link TurnBatch}). */
  async put(input: ItemInput): Promise<StoredItem> {
    const written = withNewRevision(input);
    await this.puts.add(written);
    return written;
  }

  /** One PutItem for one item, BatchWriteItem for more (a key twice goes in separate batches). */
  private async write(items: readonly StoredItem[]): Promise<void> {
    if (items.length === 1) {
      const [item] = items as [StoredItem];
      await this.call('PutItem', () =>
        this.client.send(new PutItemCommand({ TableName: this.tableName, Item: toAttributes(item) })),
      );
      return;
    }
    await batchPutItems(
      this.batchTarget,
      items.map((item) => ({ key: item.key, attributes: toAttributes(item) })),
    );
  }

  async create(input: ItemInput): Promise<StoredItem | undefined> {
    return this.conditionalPut(input, 'attribute_not_exists(#sk) OR #exp <= :now', { '#sk': 'sk' }, {});
  }

  async compareAndSwap(input: ItemInput, expectedRevision: string): Promise<StoredItem | undefined> {
    // A missing item has no revision, so the first clause also keeps this from creating one.
    return this.conditionalPut(
      input,
      `#rev = :expected AND ${LIVE}`,
      { '#rev': 'revision' },
      { ':expected': { S: expectedRevision } },
    );
  }

  async delete(key: string, expectedRevision?: string): Promise<boolean> {
    const names: Record<string, string> = { '#sk': 'sk', '#exp': 'expires_at' };
    const values: Attributes = { ':now': { N: String(this.clock.now()) } };
    let condition = `attribute_exists(#sk) AND ${LIVE}`;
    if (expectedRevision !== undefined) {
      condition += ' AND #rev = :expected';
      names['#rev'] = 'revision';
      values[':expected'] = { S: expectedRevision };
    }
    try {
      await this.call('DeleteItem', () =>
        this.client.send(
          new DeleteItemCommand({
            TableName: this.tableName,
            Key: primaryKey(key),
            ConditionExpression: condition,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
          }),
        ),
      );
      return true;
    } catch (error) {
      // Unlike a put, a delete leaves nothing to recognise our own earlier attempt by: when the SDK
      // retries a delete whose first attempt landed (its answer lost), the retry fails the condition and
      // this answers false. That fails closed: a single-use token is refused, never accepted twice.
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  async list(prefix: string, options: ListOptions = {}): Promise<StoredItem[]> {
    const collection = collectionOf(prefix, 'list prefix');
    if (!prefix.startsWith(`${collection}/`)) {
      throw new StorageError(
        'storage_invalid_key',
        'A list prefix must start with a whole collection name and "/" (such as "instances/"), because ' +
          'the collection is the DynamoDB partition key.',
      );
    }
    checkListAfter(prefix, options);
    const limit = options.limit === undefined ? undefined : Math.max(0, Math.floor(options.limit));
    const out: StoredItem[] = [];
    if (limit === 0) return out;
    const now = this.clock.now();
    // The first page asks for exactly what is wanted. Expired items still count against a page's Limit
    // (DynamoDB filters after it), so each further page asks for twice as many as the last: a long run of
    // expired items costs a few round trips rather than one per item.
    let pageLimit = limit;
    // A key of the listing is a valid place to start after, whether or not its item still exists.
    let startKey: Attributes | undefined =
      options.after === undefined ? undefined : { pk: { S: collection }, sk: { S: options.after } };
    do {
      const requested = minDefined(pageLimit, this.pageSize);
      const page: QueryCommandOutput = await this.call('Query', () =>
        this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: '#pk = :pk AND begins_with(#sk, :prefix)',
            FilterExpression: LIVE,
            ExpressionAttributeNames: { '#pk': 'pk', '#sk': 'sk', '#exp': 'expires_at' },
            ExpressionAttributeValues: {
              ':pk': { S: collection },
              ':prefix': { S: prefix },
              ':now': { N: String(now) },
            },
            ScanIndexForward: !options.reverse,
            ConsistentRead: true,
            ...(requested === undefined ? {} : { Limit: requested }),
            ...(startKey === undefined ? {} : { ExclusiveStartKey: startKey }),
          }),
        ),
      );
      for (const attributes of page.Items ?? []) {
        out.push(this.toItem(attributes));
        if (limit !== undefined && out.length >= limit) return out;
      }
      startKey = page.LastEvaluatedKey;
      if (limit !== undefined && pageLimit !== undefined) {
        pageLimit = Math.max(limit - out.length, pageLimit * 2);
      }
    } while (startKey !== undefined);
    return out;
  }

  /** Marks this backend closed. The DynamoDB client belongs to the caller and stays usable. */
  async close(): Promise<void> {
    this.closed = true;
  }

  private async conditionalPut(
    input: ItemInput,
    condition: string,
    names: Record<string, string>,
    values: Attributes,
  ): Promise<StoredItem | undefined> {
    const written = withNewRevision(input);
    try {
      await this.call('PutItem', () =>
        this.client.send(
          new PutItemCommand({
            TableName: this.tableName,
            Item: toAttributes(written),
            ConditionExpression: condition,
            ExpressionAttributeNames: { ...names, '#exp': 'expires_at' },
            ExpressionAttributeValues: { ...values, ':now': { N: String(this.clock.now()) } },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        ),
      );
      return written;
    } catch (error) {
      if (!isConditionalCheckFailed(error)) throw error;
      // When the SDK retries a write whose first attempt landed but whose answer was lost (a timeout, a
      // 5xx), the retry fails its own condition. The item DynamoDB hands back then carries the revision
      // this call generated, which no other writer can have: the write is ours and succeeded. Without this
      // a landed renewal would be reported as a lost race and could lock a healthy bot instance.
      const current = error.Item?.['revision'];
      return current !== undefined && 'S' in current && current.S === written.revision ? written : undefined;
    }
  }

  /**
   * Sends one SDK command: refused once closed or past the request's deadline, given up on when the
   * deadline passes while it waits, failures mapped to `StorageError`s. A call given up on is not
   * aborted (an abort signal costs the SDK ~0.1 ms of work per call): its answer is dropped, and the
   * SDK's own timeouts end it.
   */
  private async call<T>(operation: string, send: () => Promise<T>): Promise<T> {
    if (this.closed) {
      throw new StorageError(
        'storage_unavailable',
        `The DynamoDB backend for ${this.tableName} has been closed.`,
      );
    }
    const deadline = this.deadline();
    if (deadline?.passed) throw deadlinePassed(this.tableName, operation);
    try {
      return await (deadline === undefined ? send() : Promise.race([send(), deadline.reached]));
    } catch (error) {
      if (deadline?.passed) throw deadlinePassed(this.tableName, operation);
      if (isConditionalCheckFailed(error)) throw error;
      throw toStorageError(error, this.tableName, operation);
    }
  }

  private toItem(attributes: Attributes): StoredItem {
    const key = stringOf(attributes['sk']);
    const value = stringOf(attributes['value']);
    const revision = stringOf(attributes['revision']);
    const expiresAtText = attributes['expires_at'];
    const expiresAt =
      expiresAtText === undefined ? undefined : 'N' in expiresAtText ? Number(expiresAtText.N) : Number.NaN;
    if (key === undefined || value === undefined || revision === undefined || Number.isNaN(expiresAt)) {
      // Names only: the item's value may hold a secret.
      throw new StorageError(
        'storage_corrupt',
        `An item in the DynamoDB table ${this.tableName} lacks a string sk, value or revision, or has a ` +
          'non-numeric expires_at. Something other than the auth service wrote to the table; remove that ' +
          'item or restore the table from a backup.',
      );
    }
    return { key, value, revision, ...(expiresAt === undefined ? {} : { expiresAt }) };
  }
}

function primaryKey(key: string): Attributes {
  return { pk: { S: collectionOf(key, 'key') }, sk: { S: key } };
}

function toAttributes(item: StoredItem): Attributes {
  const attributes: Attributes = {
    ...primaryKey(item.key),
    value: { S: item.value },
    revision: { S: item.revision },
  };
  if (item.expiresAt !== undefined) {
    attributes['expires_at'] = { N: String(item.expiresAt) };
    // Rounded up so TTL can never remove an item before `expires_at` hides it.
    attributes['ttl'] = { N: String(Math.ceil(item.expiresAt / 1000)) };
  }
  return attributes;
}

/** The first `/`-separated segment, which DynamoDB needs non-empty as the partition key. */
function collectionOf(key: string, what: string): string {
  const slash = key.indexOf('/');
  const collection = slash === -1 ? key : key.slice(0, slash);
  if (collection === '') {
    // The key itself is not quoted: some keys embed token names.
    throw new StorageError(
      'storage_invalid_key',
      `A storage ${what} must start with a non-empty collection name (such as "tokens/"), which is the ` +
        'DynamoDB partition key.',
    );
  }
  return collection;
}

function stringOf(attribute: AttributeValue | undefined): string | undefined {
  return attribute !== undefined && 'S' in attribute ? attribute.S : undefined;
}

function minDefined(a: number | undefined, b: number | undefined): number | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return Math.min(a, b);
}
