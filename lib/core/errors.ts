/**
 * One root error for the whole system, with a family per area. Every error carries a stable `code`
 * (machine readable, safe to put on the wire and in the audit log), a message a person can act on
 * (what was wrong, the value, how to fix it) and, where there is one, the underlying `cause`.
 *
 * Messages must never contain key material, token values, signatures or credentials.
 */
export class MidError extends Error {
  /** HTTP status used when this error is answered over the API. */
  readonly httpStatus: number = 500;
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A config file, resource YAML, flag or environment value that cannot be accepted. */
export class ConfigError extends MidError {
  override readonly httpStatus: number = 400;
}

/** A request body, event or other wire input that does not match its schema. */
export class InvalidRequestError extends MidError {
  override readonly httpStatus: number = 400;
}

/** The caller could not be authenticated (missing, malformed, stale or forged credentials). */
export class AuthenticationError extends MidError {
  override readonly httpStatus: number = 401;
}

/** The caller is known but not allowed to do this. */
export class AccessDeniedError extends MidError {
  override readonly httpStatus: number = 403;
}

/** A join was refused (bad token, failed IAM proof, pin mismatch...). */
export class JoinError extends MidError {
  override readonly httpStatus: number = 403;
  /** The AWS identity STS vouched for, when the refusal came after STS answered (for the audit log). */
  readonly awsArn?: string;
  /** The bot the refused join was for, when the refusal knows it before the join service does. */
  readonly bot?: string;

  constructor(code: string, message: string, options?: { cause?: unknown; awsArn?: string; bot?: string }) {
    super(code, message, options);
    if (options?.awsArn !== undefined) this.awsArn = options.awsArn;
    if (options?.bot !== undefined) this.bot = options.bot;
  }
}

/** A certificate could not be issued as requested. */
export class IssuanceError extends MidError {
  override readonly httpStatus: number = 400;
}

/** A named resource does not exist. */
export class NotFoundError extends MidError {
  override readonly httpStatus: number = 404;
}

/** A resource already exists, or changed under us. */
export class ConflictError extends MidError {
  override readonly httpStatus: number = 409;
}

/** The request was refused because a limit was reached (body size, rate). */
export class LimitExceededError extends MidError {
  override readonly httpStatus: number = 413;
}

/** The storage backend failed (locked, read-only, unreachable). */
export class StorageError extends MidError {
  override readonly httpStatus: number = 503;
}

/** An artifact destination could not be written. Previously written artifacts are left in place. */
export class DestinationError extends MidError {}

/** A key, certificate or signature could not be built or parsed. */
export class PkiError extends MidError {
  override readonly httpStatus: number = 400;
}

/** A remote dependency (auth service, STS, Secrets Manager) failed or could not be reached. */
export class UpstreamError extends MidError {
  override readonly httpStatus: number = 502;
}
