/**
 * The auth service on AWS: API Gateway HTTP API (payload 2.0) events go to the same router as the local
 * server; CloudFormation custom resource events apply the deployment's resources. A composition root
 * only: dependencies are built once per cold start and reused while the Lambda is warm (the CAs are
 * loaded from Secrets Manager once, not per request).
 */
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { AuthService } from '../lib/auth/auth-service.js';
import {
  isHttpApiEvent,
  rawPathOf,
  sourceIpOf,
  toApiRequest,
  toHttpApiResult,
} from '../lib/auth/aws/api-gateway-event.js';
import { readAuthLambdaEnvironment } from '../lib/auth/aws/lambda-environment.js';
import { isProvisioningEvent, provisionResources } from '../lib/auth/aws/resource-provisioning.js';
import { ApiRouter } from '../lib/auth/http/api-router.js';
import { TransportAdminAuthenticator } from '../lib/auth/http/bearer-admin-authenticator.js';
import { iamJoinMethod } from '../lib/auth/iam/iam-join-method.js';
import { joinChallengeRoute } from '../lib/auth/iam/join-challenge-route.js';
import { SecretsManagerCaStore } from '../lib/auth/secrets-manager-ca-store.js';
import { DynamoDbBackend } from '../lib/auth/storage/dynamodb-backend.js';
import { createDynamoDbClient } from '../lib/auth/storage/dynamodb-client.js';
import { cachedUnlessFailed } from '../lib/core/cached-unless-failed.js';
import { systemClock } from '../lib/core/clock.js';
import { ConfigError, MidError } from '../lib/core/errors.js';
import { InvocationDeadline } from '../lib/core/invocation-deadline.js';
import { createLogger } from '../lib/core/logger.js';
import { secureRandom } from '../lib/core/random.js';
import { requestHandlerWithTimeouts, type SdkCallTimeouts } from '../lib/core/sdk-call-timeouts.js';

/**
 * How long one attempt to read or write the CA secret may take before the SDK retries it. Without these
 * a hung connection on a cold start would hold the invocation until the Lambda's 29 s timeout; with
 * them, the SDK's three attempts fit well inside it.
 */
const CA_SECRET_TIMEOUTS: SdkCallTimeouts = { connectionTimeoutMs: 2_000, requestTimeoutMs: 5_000 };

/** Each API request's deadline, for its storage calls (see ANSWER_MARGIN_MS). */
const invocationDeadline = new InvocationDeadline();

interface Ready {
  readonly service: AuthService;
  readonly router: ApiRouter;
}

async function build(): Promise<Ready> {
  const env = readAuthLambdaEnvironment(process.env);
  const currentDeadline = () => invocationDeadline.current();
  const logger = createLogger({ format: 'json', level: env.MID_LOG_LEVEL }, { service: 'machine-id-auth' });
  const service = await AuthService.create({
    clusterName: env.MID_CLUSTER_NAME,
    suite: env.MID_SIGNATURE_SUITE,
    storage: new DynamoDbBackend({
      client: createDynamoDbClient({}, { deadline: currentDeadline }),
      tableName: env.MID_TABLE_NAME,
      deadline: currentDeadline,
    }),
    caStore: new SecretsManagerCaStore({
      client: new SecretsManagerClient({ requestHandler: requestHandlerWithTimeouts(CA_SECRET_TIMEOUTS) }),
      secretId: env.MID_CA_SECRET_ID,
    }),
    clock: systemClock,
    random: secureRandom,
    logger,
    joinMethods: [
      iamJoinMethod(
        env.MID_INSECURE_STS_ENDPOINT_FOR_TESTS === undefined
          ? {}
          : { stsEndpointOverrideForTests: env.MID_INSECURE_STS_ENDPOINT_FOR_TESTS },
      ),
    ],
  });
  const router = new ApiRouter(service, {
    admin: new TransportAdminAuthenticator(),
    extraRoutes: [joinChallengeRoute(service.context)],
  });
  return { service, router };
}

// A failed cold start (a throttled CA read) must not poison every later invocation of this instance.
const dependencies = cachedUnlessFailed(build);

/**
 * How long before the Lambda's own timeout a request gives up on storage calls still in flight, to
 * answer with its error (`storage_timeout`) while there is time to send it.
 */
const ANSWER_MARGIN_MS = 1_500;

/** The parts of the Lambda context the handler reads; tests may pass none. */
interface LambdaContext {
  readonly awsRequestId?: string;
  getRemainingTimeInMillis?(): number;
}

export async function handler(event: unknown, context?: LambdaContext): Promise<unknown> {
  const { service, router } = await dependencies();
  if (isProvisioningEvent(event)) return provisionResources(service, event);
  if (!isHttpApiEvent(event)) {
    throw new ConfigError(
      'unknown_event',
      'the auth Lambda takes API Gateway HTTP API (2.0) events and CloudFormation custom resource events',
    );
  }
  let request: ReturnType<typeof toApiRequest>;
  try {
    request = toApiRequest(event);
  } catch (error) {
    const requestId = context?.awsRequestId ?? 'unknown';
    // Refused before routing, as the local server refuses an oversized body: audited all the same.
    if (error instanceof MidError && error.code === 'body_too_large') {
      await router
        .auditOversizedBody(rawPathOf(event), { requestId, ...sourceIpOf(event) })
        .catch((auditError: unknown) =>
          service.context.logger.error('audit of an oversized body failed', { error: String(auditError) }),
        );
    }
    const status = error instanceof MidError ? error.httpStatus : 400;
    const code = error instanceof MidError ? error.code : 'invalid_event';
    const message = error instanceof MidError ? error.message : 'the request could not be read';
    return toHttpApiResult(
      {
        status,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ error: { code, message, request_id: requestId } }),
      },
      requestId,
    );
  }
  const remainingMs = context?.getRemainingTimeInMillis?.();
  const response =
    remainingMs === undefined
      ? await router.handle(request)
      : await invocationDeadline.run(remainingMs - ANSWER_MARGIN_MS, () => router.handle(request));
  return toHttpApiResult(response, request.requestId);
}
