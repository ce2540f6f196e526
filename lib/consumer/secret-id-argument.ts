import { SECRET_ARN, SECRET_NAME } from '../bot/destinations/secret-value.js';
import { ConsumerError } from './errors.js';

/*
 * The secret id callers hand the consumer library, checked before any call: plain JavaScript callers
 * (and casts) pass the wrong shape, and an unset environment variable passes undefined.
 */

/** How a wrong argument reads in a message: never its content beyond a secret id's first characters. */
function describeArgument(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/**
 * `load` takes the secret id itself while `loadIdentity` takes options holding it: plain JavaScript
 * callers (and casts) mix them up, and `String({})` made the refusal read "[object Object]".
 */
export function checkSecretId(secretId: unknown, method: 'load' | 'invalidate'): asserts secretId is string {
  if (typeof secretId !== 'string') {
    const options = secretId !== null && typeof secretId === 'object' && Object.hasOwn(secretId, 'secretId');
    throw new ConsumerError(
      'invalid_secret_id',
      options
        ? `IdentityLoader.${method} takes the secret name or ARN itself, a string, but got an object with secretId (the options loadIdentity takes); call loader.${method}(options.secretId)`
        : `IdentityLoader.${method} takes the secret name or ARN as a string, e.g. loader.${method}('machine-id/ci/billing'), but got ${describeArgument(secretId)}`,
    );
  }
  if (!SECRET_NAME.test(secretId) && !SECRET_ARN.test(secretId)) {
    throw new ConsumerError(
      'invalid_secret_id',
      `${JSON.stringify(secretId.slice(0, 100))} is not a Secrets Manager secret name (1-512 of letters, digits and /_+=.@-) or secret ARN`,
      { secretId },
    );
  }
}

/** Why `loadIdentity(options)` cannot use its options' `secretId`, or undefined when it can. */
export function loadIdentityOptionsProblem(options: unknown): ConsumerError | undefined {
  const secretId = (options as { secretId?: unknown } | null | undefined)?.secretId;
  if (typeof secretId === 'string') return undefined;
  return new ConsumerError(
    'invalid_secret_id',
    `loadIdentity: options.secretId is ${secretId === undefined ? 'missing (an environment variable that is not set?)' : describeArgument(secretId)}; give the secret name or ARN as a string, e.g. loadIdentity({ secretId: 'machine-id/ci/billing' })`,
  );
}
