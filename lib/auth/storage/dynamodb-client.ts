import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { requestHandlerWithTimeouts, type SdkCallTimeouts } from '../../core/sdk-call-timeouts.js';
import { WARM_SDK_CLIENT_CONFIG, withoutCallLogging } from '../../core/warm-sdk-client.js';

/**
 * How long one DynamoDB attempt may take before the SDK gives up on it and retries. DynamoDB answers
 * in milliseconds; without these the SDK waits as long as the Lambda lives on a connection that hangs.
 */
export const DYNAMODB_TIMEOUTS: SdkCallTimeouts = { connectionTimeoutMs: 2_000, requestTimeoutMs: 5_000 };

/**
 * The client `DynamoDbBackend` is meant to be given: timeouts on, the SDK's standard retries, and
 * no per-call work a warm Lambda does not need (`lib/core/warm-sdk-client.ts`). Build it once per cold
 * start; `config` is for the region and, in tests, the endpoint and credentials.
 *
 * @example
 * const storage = new DynamoDbBackend({ client: createDynamoDbClient(), tableName: process.env.TABLE_NAME });
 */
export function createDynamoDbClient(config: DynamoDBClientConfig = {}): DynamoDBClient {
  return withoutCallLogging(
    new DynamoDBClient({
      ...WARM_SDK_CLIENT_CONFIG,
      requestHandler: requestHandlerWithTimeouts(DYNAMODB_TIMEOUTS),
      ...config,
    }),
  );
}
