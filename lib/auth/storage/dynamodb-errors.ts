import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { StorageError } from '../../core/errors.js';

const THROTTLING = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
]);
const ACCESS_DENIED = new Set(['AccessDeniedException', 'KMSAccessDeniedException']);

export interface ConditionalCheckFailed {
  readonly name: 'ConditionalCheckFailedException';
  readonly Item?: Record<string, AttributeValue>;
}

/**
 * The request's deadline (see `lib/core/invocation-deadline.ts`) passed before `operation` was answered.
 * Nothing tells whether a write given up on landed, as after a timeout: callers treat it as failed, and
 * single-use items stay safe because their writes are conditional.
 */
export function deadlinePassed(tableName: string, operation: string): StorageError {
  return new StorageError(
    'storage_timeout',
    `DynamoDB had not answered dynamodb:${operation} on table ${tableName} when this request's time ran ` +
      "out (the auth service answers before API Gateway's 30 s limit instead of being cut off). The call " +
      'may have taken effect or not: retry it (a join may then find its single-use token spent, and need ' +
      "a new one). If it keeps happening, check DynamoDB's health in this region and the table's latency " +
      'and throttling metrics.',
  );
}

export function isConditionalCheckFailed(error: unknown): error is ConditionalCheckFailed {
  return errorName(error) === 'ConditionalCheckFailedException';
}

export function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Maps an SDK failure to a `StorageError`. The SDK has already retried throttling and transient
 * failures by the time one arrives here. Messages name the table and the action, never a key or value.
 */
export function toStorageError(error: unknown, tableName: string, operation: string): StorageError {
  if (error instanceof StorageError) return error;
  const name = errorName(error) ?? 'Error';
  const detail = errorMessage(error);
  const cause = { cause: error };
  if (name === 'ResourceNotFoundException') {
    return new StorageError(
      'storage_unavailable',
      `The DynamoDB table ${tableName} does not exist in this account and region (dynamodb:${operation} ` +
        'answered ResourceNotFoundException). Deploy the stack that creates it (cdk deploy), or set the ' +
        "auth service's table name and region to an existing table.",
      cause,
    );
  }
  if (THROTTLING.has(name)) {
    return new StorageError(
      'storage_throttled',
      `DynamoDB kept throttling dynamodb:${operation} on table ${tableName} after the SDK's retries ` +
        `(${name}). Retry later; if it persists, check the table's capacity mode and the account's ` +
        'DynamoDB quotas.',
      cause,
    );
  }
  if (ACCESS_DENIED.has(name)) {
    return new StorageError(
      'storage_access_denied',
      `The auth service is not allowed dynamodb:${operation} on table ${tableName} (${name}: ${detail}). ` +
        "Grant the function's role that action on the table (the MachineIdAuth construct does), and " +
        'kms:Decrypt if the table uses a customer managed key.',
      cause,
    );
  }
  return new StorageError(
    'storage_unavailable',
    `dynamodb:${operation} on table ${tableName} failed (${name}: ${detail}).`,
    cause,
  );
}
