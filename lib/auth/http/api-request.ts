/** A transport-neutral HTTP request: the local HTTPS server and the Lambda adapter both build this. */
export interface ApiRequest {
  readonly method: string;
  readonly path: string;
  readonly query: URLSearchParams;
  /** Lower-case names, one value each (transports join or refuse repeats). */
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: Buffer;
  readonly requestId: string;
  readonly remoteAddr?: string;
  /** Set by a transport that authenticated an operator itself (API Gateway with IAM authorisation). */
  readonly adminPrincipal?: string;
}

export interface ApiResponse {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** Authenticates operator calls; returns the principal to record in the audit log. */
export interface AdminAuthenticator {
  authenticate(request: ApiRequest): string;
}
