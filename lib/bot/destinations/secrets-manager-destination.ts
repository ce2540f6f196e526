import { createHash } from 'node:crypto';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { DestinationError } from '../../core/errors.js';
import { awsErrorKind, awsErrorName, describeAwsError, isTransientAwsError } from './aws-error-kind.js';
import {
  type ArtifactFile,
  checkArtifactFiles,
  checkArtifactName,
  type Destination,
  type OutputMetadata,
} from './destination.js';
import {
  buildSecretValue,
  SECRET_ARN,
  SECRET_NAME,
  SECRET_VALUE_MAX_BYTES,
  secretsManagerDestinationLabel,
} from './secret-value.js';

/** One retry the destination is about to make; for logs. Carries no secret value. */
export interface SecretsManagerRetry {
  readonly operation: 'PutSecretValue' | 'CreateSecret' | 'GetSecretValue';
  /** The attempt that failed, from 1. */
  readonly attempt: number;
  readonly delayMs: number;
  /** `ThrottlingException (HTTP 400): Rate exceeded`. */
  readonly error: string;
}

export interface SecretsManagerDestinationOptions {
  /**
   * Built once per cold start by the caller. Build it with `maxAttempts: 1` and timeouts (see
   * `createSecretsManagerClient`): this destination does the retrying, and an SDK that retries too
   * multiplies the attempts.
   */
  readonly client: SecretsManagerClient;
  /** The secret's name or full ARN. A secret given by ARN is never created, only written. */
  readonly secretId: string;
  /** KMS key for a secret this destination creates. An existing secret keeps its own key. @default aws/secretsmanager */
  readonly kmsKeyId?: string;
  /** @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  /** A number in [0, 1), for the jitter. @default Math.random */
  readonly random?: () => number;
  /** Attempts per call, the first included. @default 5 */
  readonly maxAttempts?: number;
  /** The backoff ceiling before the first retry; it doubles per retry. @default 200 */
  readonly baseDelayMs?: number;
  /** No backoff ceiling goes above this. @default 5000 */
  readonly maxDelayMs?: number;
  /** Called before each retry (to log it). */
  readonly onRetry?: (retry: SecretsManagerRetry) => void;
}

const DEFAULT_MAX_ATTEMPTS = 5;
const DEFAULT_BASE_DELAY_MS = 200;
const DEFAULT_MAX_DELAY_MS = 5_000;

/**
 * Writes each output as ONE Secrets Manager secret value (SECURITY rule 13, DESIGN "Artifacts"):
 * a flat JSON object of the artifact files' text plus `expires_at`, `issued_at`, `bot`, `output`,
 * `serial`.
 *
 * - One `PutSecretValue` per write, so a reader sees the old value or the new one, never a mix. The new
 *   version becomes AWSCURRENT and Secrets Manager moves the previous one to AWSPREVIOUS. On any failure
 *   no version is added and AWSCURRENT stays the last good value.
 * - The 64 KiB limit is checked before any call.
 * - `ClientRequestToken` is derived from the secret id and the issued serial
 *   ({@link clientRequestTokenFor}), so writing the same issuance again (a retry after a timeout whose
 *   write did land, a second run with the same certificates) is a no-op rather than a new version.
 * - Retries: throttling, 5xx, timeouts and dropped connections are retried up to `maxAttempts` with
 *   exponential backoff and full jitter (delay = random × min(maxDelayMs, baseDelayMs × 2^(n−1))).
 *   This loop replaces the SDK's retries: build the client with `maxAttempts: 1`. With SDK retries
 *   left on it still works, the attempts just multiply (3 × 5 by default).
 * - A missing secret is created (with `kmsKeyId`) when the role may `secretsmanager:CreateSecret`;
 *   otherwise the error says to create it or grant that action.
 * - Nothing here logs; errors and `onRetry` carry AWS's error name and message, never the value.
 *
 * @example
 * const client = createSecretsManagerClient({ region: 'eu-west-1' }); // once per cold start
 * const destination = new SecretsManagerDestination({ client, secretId: 'machine-id/ci/identity' });
 * await destination.write(files, { bot: 'ci', output: 'identity', serial, issuedAt, expiresAt });
 */
export class SecretsManagerDestination implements Destination {
  readonly secretId: string;
  private readonly client: SecretsManagerClient;
  private readonly kmsKeyId: string | undefined;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly onRetry: ((retry: SecretsManagerRetry) => void) | undefined;

  constructor(options: SecretsManagerDestinationOptions) {
    if (!SECRET_NAME.test(options.secretId) && !SECRET_ARN.test(options.secretId)) {
      throw new DestinationError(
        'invalid_secret_id',
        `${JSON.stringify(options.secretId.slice(0, 100))} is not a Secrets Manager secret name (1-512 of letters, digits and /_+=.@-) or secret ARN; fix the destination's name`,
      );
    }
    const maxAttempts = options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS;
    if (!Number.isInteger(maxAttempts) || maxAttempts < 1 || maxAttempts > 20) {
      throw new DestinationError(
        'invalid_option',
        `maxAttempts must be an integer from 1 to 20, got ${maxAttempts}`,
      );
    }
    this.client = options.client;
    this.secretId = options.secretId;
    this.kmsKeyId = options.kmsKeyId;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.random = options.random ?? Math.random;
    this.maxAttempts = maxAttempts;
    this.baseDelayMs = options.baseDelayMs ?? DEFAULT_BASE_DELAY_MS;
    this.maxDelayMs = options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS;
    this.onRetry = options.onRetry;
  }

  describe(): string {
    return secretsManagerDestinationLabel(this.secretId);
  }

  async write(files: readonly ArtifactFile[], metadata?: OutputMetadata): Promise<void> {
    if (metadata === undefined) {
      throw new DestinationError(
        'metadata_required',
        `${this.describe()}: the Secrets Manager destination needs the output's metadata (serial, issued_at, expires_at) to build the secret and its idempotency token; this is a bug in the agent`,
      );
    }
    checkArtifactFiles(files);
    const value = buildSecretValue(files, metadata);
    const size = Buffer.byteLength(value, 'utf8');
    if (size > SECRET_VALUE_MAX_BYTES) throw tooLarge(size, files, metadata, this.secretId);

    const token = clientRequestTokenFor(this.secretId, metadata.serial);
    try {
      await this.put(value, token);
      return;
    } catch (error) {
      if (awsErrorKind(error) !== 'not_found') throw this.writeError(error, 'PutSecretValue', metadata);
    }
    await this.create(value, token, metadata);
  }

  /** The named key of the AWSCURRENT value, or `undefined` when the secret or the key is missing. */
  async read(name: string): Promise<Buffer | undefined> {
    checkArtifactName(name);
    let secretString: string | undefined;
    try {
      const answer = await this.withRetries('GetSecretValue', () =>
        this.client.send(new GetSecretValueCommand({ SecretId: this.secretId, VersionStage: 'AWSCURRENT' })),
      );
      secretString = answer.SecretString;
    } catch (error) {
      if (awsErrorKind(error) === 'not_found') return undefined;
      throw this.readError(error);
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(secretString ?? '');
    } catch {
      parsed = undefined;
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new DestinationError(
        'secret_value_invalid',
        `${this.describe()}: the AWSCURRENT value is not a JSON object; it was not written by midbot`,
      );
    }
    // Own keys only: `read('constructor')` must not reach into the prototype.
    const item = Object.hasOwn(parsed, name) ? (parsed as Record<string, unknown>)[name] : undefined;
    return typeof item === 'string' ? Buffer.from(item, 'utf8') : undefined;
  }

  private async put(value: string, token: string): Promise<void> {
    await this.withRetries('PutSecretValue', () =>
      this.client.send(
        new PutSecretValueCommand({
          SecretId: this.secretId,
          SecretString: value,
          ClientRequestToken: token,
        }),
      ),
    );
  }

  private async create(value: string, token: string, metadata: OutputMetadata): Promise<void> {
    if (SECRET_ARN.test(this.secretId)) {
      // An ARN carries a random suffix that only Secrets Manager picks: we cannot create that secret.
      throw new DestinationError(
        'secret_not_found',
        `secret ${this.secretId} does not exist (or is in another account or region); create it, or configure the destination by name so midbot can create it`,
      );
    }
    try {
      await this.withRetries('CreateSecret', () =>
        this.client.send(
          new CreateSecretCommand({
            Name: this.secretId,
            SecretString: value,
            ClientRequestToken: token,
            Description: `Machine ID output ${metadata.output} of bot ${metadata.bot}, written by midbot`,
            ...(this.kmsKeyId !== undefined ? { KmsKeyId: this.kmsKeyId } : {}),
          }),
        ),
      );
      return;
    } catch (error) {
      const kind = awsErrorKind(error);
      if (kind === 'access_denied') {
        throw new DestinationError(
          'secret_not_found',
          `secret ${this.secretId} does not exist and the bot may not create it (${awsErrorName(error)} on secretsmanager:CreateSecret); create the secret (the CDK MachineIdBot construct does), or grant the bot's role secretsmanager:CreateSecret on it`,
          { cause: error },
        );
      }
      if (kind !== 'exists') throw this.writeError(error, 'CreateSecret', metadata);
    }
    // Someone created it between our PutSecretValue and CreateSecret (another run, an operator, or
    // our own CreateSecret whose answer was lost): write the version into it. The token keeps this
    // idempotent if that someone was us.
    try {
      await this.put(value, token);
    } catch (error) {
      throw this.writeError(error, 'PutSecretValue', metadata);
    }
  }

  /**
   * Runs `send` until it succeeds, fails with a non-transient error (rethrown as is), or fails
   * `maxAttempts` times transiently (then a `DestinationError` with code `secrets_manager_unavailable`).
   */
  private async withRetries<T>(
    operation: SecretsManagerRetry['operation'],
    send: () => Promise<T>,
  ): Promise<T> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await send();
      } catch (error) {
        if (!isTransientAwsError(error)) throw error;
        if (attempt >= this.maxAttempts) {
          throw new DestinationError(
            'secrets_manager_unavailable',
            `${this.describe()}: ${operation} failed ${attempt} time(s), last with ${describeAwsError(error)}; ${
              operation === 'GetSecretValue'
                ? 'try again later'
                : 'the previous value stays AWSCURRENT and the next run tries again'
            }`,
            { cause: error },
          );
        }
        const delayMs = this.backoffDelay(attempt);
        this.onRetry?.({ operation, attempt, delayMs, error: describeAwsError(error) });
        await this.sleep(delayMs);
      }
    }
  }

  /** Full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"): spreads retrying bots apart. */
  private backoffDelay(attempt: number): number {
    const ceiling = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
    const fraction = Math.min(Math.max(this.random(), 0), 1);
    return Math.floor(fraction * ceiling);
  }

  private writeError(error: unknown, operation: string, metadata: OutputMetadata): DestinationError {
    if (error instanceof DestinationError) return error;
    const kept = 'the previous value stays AWSCURRENT';
    const name = awsErrorName(error);
    const message = error instanceof Error ? error.message : '';
    switch (awsErrorKind(error)) {
      case 'access_denied':
        return new DestinationError(
          'secret_access_denied',
          `${this.describe()}: the bot may not secretsmanager:${operation} on ${this.secretId} (${describeAwsError(error)}); grant its role that action on the secret (and kms:GenerateDataKey on the secret's KMS key); ${kept}`,
          { cause: error },
        );
      case 'exists':
        return new DestinationError(
          'secret_version_conflict',
          `${this.describe()}: a version with this output's request token (serial ${metadata.serial}) already exists with a different value. The same certificate serial was written twice with different files, which should not happen; run the bot again to issue a new serial; ${kept}`,
          { cause: error },
        );
      default:
        break;
    }
    if (name === 'EncryptionFailure' || name === 'KMSAccessDeniedException') {
      return new DestinationError(
        'secret_encryption_failed',
        `${this.describe()}: Secrets Manager could not encrypt the value with the secret's KMS key${this.kmsKeyId ? ` (${this.kmsKeyId})` : ''}: ${describeAwsError(error)}; check the key is enabled and the bot's role may kms:GenerateDataKey and kms:Decrypt with it; ${kept}`,
        { cause: error },
      );
    }
    // The SDK's own refusal before sending anything: no region from the destination, the environment
    // (AWS_REGION) or the shared config (~/.aws/config).
    if (/region is missing/i.test(message)) {
      return new DestinationError(
        'secret_region_missing',
        `${this.describe()}: no AWS region to find the secret in: set AWS_REGION (or region in the profile of ~/.aws/config), or the destination's region (in a config file: destination.region); ${kept}`,
        { cause: error },
      );
    }
    if (name === 'InvalidRequestException' && /deletion/i.test(message)) {
      return new DestinationError(
        'secret_scheduled_for_deletion',
        `${this.describe()}: the secret is scheduled for deletion; restore it (aws secretsmanager restore-secret --secret-id ${this.secretId}) or configure another name`,
        { cause: error },
      );
    }
    return new DestinationError(
      'secret_write_rejected',
      `${this.describe()}: Secrets Manager refused ${operation}: ${describeAwsError(error)}; ${kept}`,
      { cause: error },
    );
  }

  private readError(error: unknown): DestinationError {
    if (error instanceof DestinationError) return error;
    if (awsErrorKind(error) === 'access_denied' || awsErrorName(error) === 'DecryptionFailure') {
      return new DestinationError(
        'secret_access_denied',
        `${this.describe()}: may not secretsmanager:GetSecretValue on ${this.secretId} (${describeAwsError(error)}); grant it, and kms:Decrypt on the secret's KMS key`,
        { cause: error },
      );
    }
    return new DestinationError(
      'secret_read_failed',
      `${this.describe()}: GetSecretValue failed: ${describeAwsError(error)}`,
      { cause: error },
    );
  }
}

/**
 * The `ClientRequestToken` for writing the output issued with `serial` into `secretId`:
 * `mid-` + the first 60 hex digits of SHA-256(secretId, serial), 64 characters (Secrets Manager takes
 * 32 to 64). It becomes the version id, so a second write of the same issuance finds its own version
 * and adds nothing.
 */
export function clientRequestTokenFor(secretId: string, serial: string): string {
  // The NUL separator keeps ("a/b", "c") and ("a", "b/c") apart.
  const digest = createHash('sha256').update(secretId).update('\0').update(serial).digest('hex');
  return `mid-${digest.slice(0, 60)}`;
}

function tooLarge(
  size: number,
  files: readonly ArtifactFile[],
  metadata: OutputMetadata,
  secretId: string,
): DestinationError {
  const largest = [...files]
    .map((file) => ({ name: file.name, bytes: Buffer.byteLength(file.data) }))
    .sort((a, b) => b.bytes - a.bytes)
    .slice(0, 3)
    .map((file) => `${file.name} ${file.bytes.toLocaleString('en-US')} bytes`)
    .join(', ');
  return new DestinationError(
    'secret_too_large',
    `output ${metadata.output} of bot ${metadata.bot} is ${size.toLocaleString('en-US')} bytes as JSON, over Secrets Manager's ${SECRET_VALUE_MAX_BYTES.toLocaleString('en-US')}-byte limit for secret ${secretId} (largest: ${largest}); split it into several outputs (fewer roles, apps or nodes each) or trust fewer CAs. Nothing was written; the previous value stays AWSCURRENT`,
  );
}
