/**
 * What kind of failure an AWS SDK v3 call ended in, from the error's `name`, HTTP status and Node
 * error code. Shared by the Secrets Manager destination (which retries the transient kinds) and the
 * consumer library (which serves its cached identity through them).
 */
export type AwsErrorKind =
  | 'throttled'
  | 'server'
  | 'timeout'
  | 'network'
  | 'not_found'
  | 'access_denied'
  | 'exists'
  | 'other';

// `LimitExceededException` is deliberately absent: in Secrets Manager it means a quota (too many
// versions), which waiting a few hundred milliseconds does not fix.
const THROTTLING = new Set([
  'ThrottlingException',
  'Throttling',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'RequestThrottled',
  'RequestThrottledException',
  'SlowDown',
]);
const SERVER = new Set(['InternalServiceError', 'InternalFailure', 'ServiceUnavailable', 'InternalError']);
const TIMEOUT = new Set(['TimeoutError', 'RequestTimeout', 'RequestTimeoutException']);
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENETDOWN',
  'EAI_AGAIN',
  'ENOTFOUND',
]);

interface SdkErrorShape {
  name?: unknown;
  code?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

/** The error's `name` as the SDK sets it from the service's `__type` (`ThrottlingException`), or `Error`. */
export function awsErrorName(error: unknown): string {
  const name = (error as SdkErrorShape | null)?.name;
  return typeof name === 'string' && name !== '' ? name : 'Error';
}

/** The HTTP status of the answer, when there was one. */
export function awsHttpStatus(error: unknown): number | undefined {
  const status = (error as SdkErrorShape | null)?.$metadata?.httpStatusCode;
  return typeof status === 'number' ? status : undefined;
}

export function awsErrorKind(error: unknown): AwsErrorKind {
  const name = awsErrorName(error);
  const status = awsHttpStatus(error);
  const code = (error as SdkErrorShape | null)?.code;
  if (THROTTLING.has(name) || status === 429) return 'throttled';
  if (SERVER.has(name) || (status !== undefined && status >= 500)) return 'server';
  if (TIMEOUT.has(name)) return 'timeout';
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return 'network';
  if (name === 'ResourceNotFoundException') return 'not_found';
  if (name === 'AccessDeniedException' || name === 'AccessDenied') return 'access_denied';
  if (name === 'ResourceExistsException') return 'exists';
  return 'other';
}

/** Worth trying again after a pause: throttling, a 5xx, a timeout or a dropped connection. */
export function isTransientAwsError(error: unknown): boolean {
  const kind = awsErrorKind(error);
  return kind === 'throttled' || kind === 'server' || kind === 'timeout' || kind === 'network';
}

/** `ThrottlingException (HTTP 400): Rate exceeded`, for messages. AWS never echoes secret values here. */
export function describeAwsError(error: unknown): string {
  const status = awsHttpStatus(error);
  const message = error instanceof Error ? error.message : String(error);
  // AWS messages often end with a period; callers go on with one of their own.
  return `${awsErrorName(error)}${status === undefined ? '' : ` (HTTP ${status})`}: ${message.slice(0, 300).replace(/\.+$/, '')}`;
}
