/** How long one attempt of an AWS SDK call may take: to connect, and in all. */
export interface SdkCallTimeouts {
  readonly connectionTimeoutMs: number;
  readonly requestTimeoutMs: number;
}

/**
 * The `requestHandler` options of an SDK client whose call attempts give up after `timeouts` (and are
 * retried as the client's retry settings say). The SDK's default is to wait on a dead connection
 * forever, and `throwOnRequestTimeout` is needed too: without it the SDK only logs a warning when
 * `requestTimeout` passes and keeps waiting.
 *
 * @example
 * new DynamoDBClient({ requestHandler: requestHandlerWithTimeouts({ connectionTimeoutMs: 2_000, requestTimeoutMs: 5_000 }) });
 */
export function requestHandlerWithTimeouts(timeouts: SdkCallTimeouts) {
  return {
    connectionTimeout: timeouts.connectionTimeoutMs,
    requestTimeout: timeouts.requestTimeoutMs,
    throwOnRequestTimeout: true,
  };
}
