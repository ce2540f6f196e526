import { JoinError } from '../../core/errors.js';

/**
 * The stable reason codes of an `iam` join refusal. They reach the caller on the wire and the operator
 * in the audit log, so they never change meaning.
 */
export type IamJoinErrorCode =
  /** The signed request names a host that is not an allowlisted STS endpoint. */
  | 'sts_host_not_allowed'
  /** Method, URL, body, headers or the SigV4 Authorization header are not what GetCallerIdentity needs. */
  | 'sts_request_malformed'
  | 'challenge_missing'
  | 'challenge_not_signed'
  | 'challenge_unknown'
  | 'challenge_expired'
  | 'challenge_replayed'
  | 'audience_missing'
  | 'audience_not_signed'
  | 'audience_mismatch'
  /** STS refused the signed request (bad signature, expired, unknown key...). */
  | 'sts_denied'
  /** STS could not be reached or failed; the caller may retry with a new challenge. */
  | 'sts_unavailable'
  /** STS (or whatever answered) sent something that is not a single well-formed identity. */
  | 'sts_response_invalid'
  | 'principal_type_not_allowed'
  | 'aws_account_not_allowed'
  | 'aws_arn_not_allowed'
  | 'aws_role_id_mismatch'
  | 'instance_locked'
  | 'instance_locked_by_operator';

/** A refused `iam` join. `awsArn` is set once STS vouched for an identity, for the audit log. */
export class IamJoinError extends JoinError {
  declare readonly code: IamJoinErrorCode;

  constructor(code: IamJoinErrorCode, message: string, options?: { cause?: unknown; awsArn?: string }) {
    super(code, message, options);
  }
}

/**
 * STS did not give an answer: the proof was neither accepted nor refused. 503 tells the agent to retry
 * (with a new challenge, since this one is spent) rather than to give up.
 */
export class StsUnavailableError extends IamJoinError {
  override readonly httpStatus: number = 503;

  constructor(message: string, options?: { cause?: unknown }) {
    super('sts_unavailable', message, options);
  }
}
