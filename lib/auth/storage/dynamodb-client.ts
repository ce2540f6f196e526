import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import type { Deadline } from '../../core/invocation-deadline.js';
import { requestHandlerWithTimeouts, type SdkCallTimeouts } from '../../core/sdk-call-timeouts.js';
import { WARM_SDK_CLIENT_CONFIG, withoutCallLogging } from '../../core/warm-sdk-client.js';
import { DeadlineRetryStrategy } from './deadline-retry-strategy.js';

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
export function createDynamoDbClient(
  config: DynamoDBClientConfig = {},
  options: DynamoDbClientOptions = {},
): DynamoDBClient {
  const maxAttempts = typeof config.maxAttempts === 'number' ? config.maxAttempts : undefined;
  return withoutCallLogging(
    new DynamoDBClient({
      ...WARM_SDK_CLIENT_CONFIG,
      requestHandler: requestHandlerWithTimeouts(DYNAMODB_TIMEOUTS),
      ...(options.deadline === undefined
        ? {}
        : { retryStrategy: new DeadlineRetryStrategy(options.deadline, maxAttempts) }),
      ...config,
    }),
  );
}

/** What the client is built with beyond the SDK's own settings. */
export interface DynamoDbClientOptions {
  /**
   * The deadline of the request running now (the auth Lambda's `InvocationDeadline.current`): a call
   * is not retried once the deadline of the request that made it has passed (`DeadlineRetryStrategy`).
   * Give the backend the same (`DynamoDbBackendOptions.deadline`), which fails the call at the deadline.
   */
  readonly deadline?: () => Deadline | undefined;
}
