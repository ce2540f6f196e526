import { UpstreamError } from '../../core/errors.js';

/** The request the server sends to STS: always `POST /` to `host`, built by the server from checked parts. */
export interface StsRequest {
  /** An allowlisted STS host; also the `host` header, exactly as signed. */
  readonly host: string;
  /** Lower-case names and values as signed, `host` included; the sender adds `content-length`. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: string;
}

/** STS's answer as received; nothing in it is trusted until parsed. */
export interface StsAnswer {
  readonly status: number;
  readonly contentType: string | undefined;
  readonly body: Buffer;
}

/** Why no answer came. */
export type StsCallFailure = 'sts_timeout' | 'sts_unreachable' | 'sts_response_too_large';

/** Thrown by a caller when there is no answer to parse. */
export class StsCallError extends UpstreamError {
  declare readonly code: StsCallFailure;

  constructor(code: StsCallFailure, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/**
 * The port through which the `iam` join method reaches STS. Implementations must not follow
 * redirects, must not retry, and must stop reading past their size cap.
 */
export interface StsCaller {
  send(request: StsRequest): Promise<StsAnswer>;
}
