import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { awsErrorKind, awsErrorName, describeAwsError } from '../bot/destinations/aws-error-kind.js';
import { requestHandlerWithTimeouts } from '../core/sdk-call-timeouts.js';
import {
  ConsumerError,
  IdentityAccessDeniedError,
  IdentityFormatError,
  IdentityNotFoundError,
  SecretsManagerUnavailableError,
} from './errors.js';

/**
 * Where the loader gets a secret's current value. Swap it to read through the Lambda
 * Parameters-and-Secrets extension, another account, or a test double.
 *
 * Throw a {@link ConsumerError} subclass to say what went wrong; anything else counts as
 * {@link SecretsManagerUnavailableError} (the loader then serves its cached identity while valid).
 *
 * @example
 * const fetcher: IdentityFetcher = { fetch: async (secretId) => JSON.stringify(fixtures[secretId]) };
 * const loader = new IdentityLoader({ fetcher });
 */
export interface IdentityFetcher {
  /** The AWSCURRENT `SecretString` of `secretId`. */
  fetch(secretId: string): Promise<string>;
}

export interface SecretsManagerFetcherOptions {
  /**
   * Built once and shared. @default a client for the environment's region and credentials, with a
   * 3 s connection and 5 s request timeout and the SDK's standard retries
   */
  readonly client?: SecretsManagerClient;
}

/**
 * The default {@link IdentityFetcher}: `GetSecretValue` (stage AWSCURRENT) with the AWS SDK, errors
 * turned into {@link ConsumerError} subclasses.
 *
 * @example
 * const fetcher = new SecretsManagerFetcher({ client: new SecretsManagerClient({ region: 'eu-west-1' }) });
 * const loader = new IdentityLoader({ fetcher });
 */
export class SecretsManagerFetcher implements IdentityFetcher {
  private client: SecretsManagerClient | undefined;

  constructor(options: SecretsManagerFetcherOptions = {}) {
    this.client = options.client;
  }

  async fetch(secretId: string): Promise<string> {
    // Made on first use, so that constructing a loader at module load never needs a region.
    this.client ??= new SecretsManagerClient({
      // Without timeouts the SDK waits for a dead connection forever, and callers with it.
      requestHandler: requestHandlerWithTimeouts({ connectionTimeoutMs: 3_000, requestTimeoutMs: 5_000 }),
    });
    let answer: { SecretString?: string | undefined; SecretBinary?: Uint8Array | undefined };
    try {
      answer = await this.client.send(
        new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSCURRENT' }),
      );
    } catch (error) {
      throw secretsManagerError(error, secretId);
    }
    if (typeof answer.SecretString !== 'string') {
      throw new IdentityFormatError(
        `secret ${secretId} holds a binary value; midbot writes identities as JSON text (SecretString)`,
        { secretId },
      );
    }
    return answer.SecretString;
  }
}

/**
 * AWS's refusals of the caller's credentials themselves: a setting of this process to fix, not an
 * outage to wait out (the loader would serve its cached identity through an outage, hiding it).
 */
const REFUSED_CREDENTIALS = new Set([
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'ExpiredTokenException',
  'IncompleteSignature',
  'InvalidClientTokenId',
  'MissingAuthenticationToken',
]);

/** Maps an AWS SDK error from `GetSecretValue` to the consumer error a caller can act on. */
export function secretsManagerError(error: unknown, secretId: string): ConsumerError {
  if (error instanceof ConsumerError) return error;
  const options = { cause: error, secretId };
  const name = awsErrorName(error);
  const message = error instanceof Error ? error.message : '';
  const kind = awsErrorKind(error);
  if (kind === 'not_found' || (name === 'InvalidRequestException' && /deletion/i.test(message))) {
    return new IdentityNotFoundError(
      `secret ${secretId} cannot be read: ${describeAwsError(error)}. Check the name or ARN, the region (AWS_REGION) and account, and that the bot has run and written it`,
      options,
    );
  }
  if (REFUSED_CREDENTIALS.has(name ?? '')) {
    return new IdentityAccessDeniedError(
      `Secrets Manager refused this process's AWS credentials reading secret ${secretId}: ${describeAwsError(error)}. Check the credentials it runs with: a wrong access key or secret key, an expired session token, or a clock far off (a signature holds for 5 minutes)`,
      options,
    );
  }
  if (kind === 'access_denied' || name === 'DecryptionFailure' || name === 'KMSAccessDeniedException') {
    return new IdentityAccessDeniedError(
      `this process may not read secret ${secretId}: ${describeAwsError(error)}. Grant its role secretsmanager:GetSecretValue on the secret, and kms:Decrypt on the secret's KMS key when that is a customer managed key`,
      options,
    );
  }
  return new SecretsManagerUnavailableError(
    `Secrets Manager could not be used to read ${secretId}: ${describeAwsError(error)}${adviceFor(error)}`,
    options,
  );
}

/** What to check when the call never reached Secrets Manager: a setting of this process, or the network. */
function adviceFor(error: unknown): string {
  const name = awsErrorName(error);
  const message = error instanceof Error ? error.message : '';
  if (/region is missing|region not accepted/i.test(message)) {
    return ". Set AWS_REGION to the secret's region (Lambda and ECS set it for you) or pass a client built with one";
  }
  if (name === 'CredentialsProviderError') {
    return '. This process has no AWS credentials: run it with a role (the Lambda execution role, the ECS task role) or set credentials in its environment';
  }
  if (awsErrorKind(error) === 'network') {
    return '. Check the network path to Secrets Manager: a function or task in a VPC needs a Secrets Manager VPC endpoint or a NAT gateway (and AWS_ENDPOINT_URL, if set, must be right)';
  }
  return '';
}
