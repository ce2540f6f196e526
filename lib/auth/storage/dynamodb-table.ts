import {
  CreateTableCommand,
  type DynamoDBClient,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
} from '@aws-sdk/client-dynamodb';
import { errorMessage, errorName, toStorageError } from './dynamodb-errors.js';

/**
 * The table's layout: partition key `pk` = the key's collection (its first `/`-separated segment), sort
 * key `sk` = the whole key, then `value` (the JSON text), `revision`, and for expiring items
 * `expires_at` (epoch ms, what reads compare) and `ttl` (epoch seconds rounded up, for DynamoDB TTL).
 *
 * Creates the table with that layout, waits until it is ACTIVE and
 * turns on TTL for `ttl` where the endpoint supports it (dynalite does not; that only delays cleanup).
 * An existing table is accepted as is, so a local setup can call this on every start.
 */
export async function createDynamoDbTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        AttributeDefinitions: [
          { AttributeName: 'pk', AttributeType: 'S' },
          { AttributeName: 'sk', AttributeType: 'S' },
        ],
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  } catch (error) {
    if (errorName(error) !== 'ResourceInUseException') throw toStorageError(error, tableName, 'CreateTable');
  }
  try {
    await waitUntilTableExists(
      { client, maxWaitTime: 300, minDelay: 1, maxDelay: 5 },
      { TableName: tableName },
    );
  } catch (error) {
    throw toStorageError(error, tableName, 'DescribeTable');
  }
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      }),
    );
  } catch (error) {
    const name = errorName(error);
    const alreadyOn = name === 'ValidationException' && /already enabled/i.test(errorMessage(error));
    if (name !== 'UnknownOperationException' && !alreadyOn) {
      throw toStorageError(error, tableName, 'UpdateTimeToLive');
    }
  }
}
