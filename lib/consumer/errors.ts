import { MidError } from '../core/errors.js';

/**
 * The root of every error the consumer library throws; catch this one to catch them all. Each
 * subclass has a stable `code`, a message that says what to fix, and the underlying `cause`. No
 * message ever contains key material or a secret value.
 *
 * It extends the project's `MidError`, so `instanceof MidError` holds too.
 *
 * @example
 * try {
 *   identity = await loadIdentity({ secretId });
 * } catch (error) {
 *   if (error instanceof IdentityExpiredError) alarm(`identity expired at ${error.expiresAt.toISOString()}`);
 *   else if (error instanceof ConsumerError) console.error(error.code, error.message);
 *   throw error;
 * }
 */
export class ConsumerError extends MidError {
  /** The secret the failed call was about, when there was one. */
  readonly secretId: string | undefined;

  constructor(code: string, message: string, options?: { cause?: unknown; secretId?: string }) {
    super(code, message, options);
    this.secretId = options?.secretId;
  }
}

/**
 * The secret does not exist (wrong name, region or account), has no AWSCURRENT value yet (the bot
 * has not run), or is scheduled for deletion. Code `identity_not_found`.
 *
 * @example
 * if (error instanceof IdentityNotFoundError) console.error(`has the bot written ${error.secretId}?`);
 */
export class IdentityNotFoundError extends ConsumerError {
  constructor(message: string, options?: { cause?: unknown; secretId?: string }) {
    super('identity_not_found', message, options);
  }
}

/**
 * This process may not read the secret (`secretsmanager:GetSecretValue`) or decrypt it (`kms:Decrypt`),
 * or AWS refused its credentials themselves (a wrong key, an expired session token): not an outage,
 * so a cached identity is not served in its place. Code `identity_access_denied`.
 *
 * @example
 * if (error instanceof IdentityAccessDeniedError) console.error('grant the task role read access: bot.grantRead(taskRole)');
 */
export class IdentityAccessDeniedError extends ConsumerError {
  constructor(message: string, options?: { cause?: unknown; secretId?: string }) {
    super('identity_access_denied', message, options);
  }
}

/**
 * The only identity available has expired: the bot stopped renewing it, or Secrets Manager was
 * unreachable for longer than the cached identity lived (then `cause` is the
 * {@link SecretsManagerUnavailableError}). The library never hands out an expired identity.
 * Code `identity_expired`.
 *
 * @example
 * if (error instanceof IdentityExpiredError) console.error(`expired at ${error.expiresAt.toISOString()}; check the bot`);
 */
export class IdentityExpiredError extends ConsumerError {
  readonly expiresAt: Date;

  constructor(message: string, options: { cause?: unknown; secretId?: string; expiresAt: Date }) {
    super('identity_expired', message, options);
    this.expiresAt = options.expiresAt;
  }
}

/**
 * The secret's value is not the JSON object the bot writes (not JSON, a missing or malformed
 * metadata key, a non-string value, a `tlscert` or `key` OpenSSL cannot read, a `key` that is not the
 * private key of `tlscert`, a `key-cert.pub` or `ssh_host-cert.pub` that is not an OpenSSH certificate, an artifact the call needs is absent, a file name that cannot be a file).
 * Code `identity_format_invalid`.
 *
 * @example
 * if (error instanceof IdentityFormatError) console.error(`${error.secretId} was not written by midbot: ${error.message}`);
 */
export class IdentityFormatError extends ConsumerError {
  constructor(message: string, options?: { cause?: unknown; secretId?: string }) {
    super('identity_format_invalid', message, options);
  }
}

/**
 * Secrets Manager could not be used just now: throttled, a 5xx, a timeout, a network error, or any
 * other failure that is not a definite "not found" or "access denied". While a cached identity is
 * still valid the loader serves it instead of throwing this. Code `secrets_manager_unavailable`.
 *
 * @example
 * loader = new IdentityLoader({ onRefreshError: (error) => metrics.count(error.code) });
 */
export class SecretsManagerUnavailableError extends ConsumerError {
  constructor(message: string, options?: { cause?: unknown; secretId?: string }) {
    super('secrets_manager_unavailable', message, options);
  }
}

/**
 * `writeIdentityFiles` could not write the folder (permissions, disk full, a symlink in the way, a
 * folder path that cannot go into `ssh_config`). Files already there are left as they were.
 * Code `identity_write_failed`.
 *
 * @example
 * if (error instanceof IdentityWriteError) console.error(error.message, error.cause);
 */
export class IdentityWriteError extends ConsumerError {
  constructor(message: string, options?: { cause?: unknown; secretId?: string }) {
    super('identity_write_failed', message, options);
  }
}
