import { SecretsManagerClient, type SecretsManagerClientConfig } from '@aws-sdk/client-secrets-manager';
import { requestHandlerWithTimeouts, type SdkCallTimeouts } from '../../core/sdk-call-timeouts.js';
import { WARM_SDK_CLIENT_CONFIG, withoutCallLogging } from '../../core/warm-sdk-client.js';

/** How long a Secrets Manager call may take before it counts as failed (and is retried). */
export const SECRETS_MANAGER_TIMEOUTS: SdkCallTimeouts = {
  connectionTimeoutMs: 3_000,
  requestTimeoutMs: 10_000,
};

/**
 * The client the `SecretsManagerDestination` expects: SDK retries off (`maxAttempts: 1`, the
 * destination retries with its own backoff and a fixed request token) and timeouts on, since the
 * SDK's default is to wait forever, and none of the per-call work a warm Lambda does not need
 * (`lib/core/warm-sdk-client.ts`). Build it once per cold start and share it.
 *
 * @example
 * const client = createSecretsManagerClient({ region: 'eu-west-1' });
 */
export function createSecretsManagerClient(config: SecretsManagerClientConfig = {}): SecretsManagerClient {
  return withoutCallLogging(
    new SecretsManagerClient({
      ...WARM_SDK_CLIENT_CONFIG,
      maxAttempts: 1,
      requestHandler: requestHandlerWithTimeouts(SECRETS_MANAGER_TIMEOUTS),
      ...config,
    }),
  );
}
