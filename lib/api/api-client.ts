import { request as httpRequest } from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import { MidError, UpstreamError } from '../core/errors.js';
import { gatewayErrorSchema, wireErrorSchema } from './wire-error.js';

/**
 * OpenSSL's verdicts on a server certificate: the service answered, but with a certificate the trust
 * this connection was set up with does not accept (most often, a service that came back with new CAs).
 */
const TLS_TRUST_ERRORS = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
]);

const AGENT_UNTRUSTED_CERTIFICATE_ADVICE =
  "if the cluster's CA changed, the next attempt checks the CA pin again; otherwise check that the address is the auth service's";

/** An error answer from the auth service, carrying its stable code, status and request id. */
export class ApiError extends MidError {
  override readonly httpStatus: number;
  readonly requestId: string | undefined;

  constructor(status: number, code: string, message: string, requestId?: string) {
    super(code, message);
    this.httpStatus = status;
    this.requestId = requestId;
  }
}

export interface ApiClientOptions {
  /** `https://host:port` of the auth service. */
  readonly baseUrl: string;
  /** PEM CA(s) to trust for the service's TLS certificate; the system roots when absent. */
  readonly ca?: string;
  /**
   * How long one request may take, answer included, before it is given up.
   * @default 15000
   */
  readonly timeoutMs?: number;
  /**
   * What to check when the service presents a certificate the trusted CA did not issue, said after
   * what happened: the agent pins the cluster's CA and checks the pin again; midctl, which reads the
   * CA from the data directory, has another service or another data directory to suspect.
   * @default the agent's advice
   */
  readonly untrustedCertificateAdvice?: string;
  /**
   * Adds authentication headers for a request (bot signature, bearer admin token, SigV4). `path` is the
   * API path; `url` the full URL the request goes to (SigV4 signs its host, path and query).
   */
  readonly authenticate?: (
    method: string,
    path: string,
    body: Buffer,
    url: URL,
  ) => Record<string, string> | Promise<Record<string, string>>;
}

export interface ApiCall {
  readonly method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  readonly path: string;
  readonly body?: unknown;
  readonly query?: Record<string, string | undefined>;
  /** Authenticates this call instead of the client's default (a bot signs with its current identity). */
  readonly authenticate?: ApiClientOptions['authenticate'];
}

/** A reused keep-alive connection turned out closed before the request was sent. */
class StaleConnectionError extends UpstreamError {
  constructor(baseUrl: string, cause: Error) {
    super('auth_unreachable', `the connection to the auth service at ${baseUrl} was closed`, { cause });
  }
}

/** Idle connections that may turn out closed at once (each is tried at most once). */
const STALE_RETRIES = 3;

/** Answers larger than this are refused: no answer of this API is anywhere near it. */
const MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

/** A small JSON-over-HTTPS client for the /v1/ API, shared by midctl and the agent. */
export class ApiClient {
  private readonly agent: Agent;
  private readonly url: URL;

  constructor(private readonly options: ApiClientOptions) {
    this.url = new URL(options.baseUrl);
    this.agent = new Agent({ keepAlive: true, ...(options.ca === undefined ? {} : { ca: options.ca }) });
  }

  get baseUrl(): string {
    return this.options.baseUrl;
  }

  async call<T>(call: ApiCall): Promise<T> {
    const body = call.body === undefined ? Buffer.alloc(0) : Buffer.from(JSON.stringify(call.body));
    const query = Object.entries(call.query ?? {}).filter(
      (entry): entry is [string, string] => entry[1] !== undefined,
    );
    const path = query.length === 0 ? call.path : `${call.path}?${new URLSearchParams(query).toString()}`;
    const url = new URL(`${this.url.pathname.replace(/\/$/, '')}${path}`, this.url);
    const headers = async (): Promise<Record<string, string>> => ({
      accept: 'application/json',
      ...(body.length > 0 ? { 'content-type': 'application/json' } : {}),
      ...(await (call.authenticate ?? this.options.authenticate)?.(call.method, call.path, body, url)),
    });
    // A kept-alive connection the server closed while we were idle (or a Lambda was frozen) fails on
    // first use before the request reached the service: send it again, signed afresh (a bot
    // signature's nonce is single use), on the next connection.
    let answer: { status: number; text: string } | undefined;
    for (let attempt = 0; answer === undefined; attempt += 1) {
      try {
        answer = await this.send(call.method, path, await headers(), body);
      } catch (error) {
        if (!(error instanceof StaleConnectionError) || attempt >= STALE_RETRIES) throw error;
      }
    }
    const { status, text } = answer;
    let parsed: unknown;
    try {
      parsed = text === '' ? {} : JSON.parse(text);
    } catch {
      throw new UpstreamError(
        'bad_response',
        `the auth service at ${this.options.baseUrl} answered ${status} with something that is not JSON`,
      );
    }
    if (status >= 200 && status < 300) return parsed as T;
    const wire = wireErrorSchema.safeParse(parsed);
    if (wire.success) {
      throw new ApiError(status, wire.data.error.code, wire.data.error.message, wire.data.error.request_id);
    }
    const gateway = gatewayErrorSchema.safeParse(parsed);
    if (gateway.success) {
      throw new ApiError(
        status,
        status === 403 ? 'forbidden' : 'http_error',
        `the API in front of the auth service answered HTTP ${status}: ${gateway.data.message}`,
      );
    }
    throw new ApiError(status, 'http_error', `the auth service answered HTTP ${status}`);
  }

  private send(
    method: string,
    path: string,
    headers: Record<string, string>,
    body: Buffer,
  ): Promise<{ status: number; text: string }> {
    const timeoutMs = this.options.timeoutMs ?? 15_000;
    const isHttps = this.url.protocol === 'https:';
    const send = isHttps ? httpsRequest : httpRequest;
    return new Promise((settleAnswer, settleError) => {
      // A deadline of its own, not the socket's idle `timeout`: over TLS, Node's socket timeout fired
      // only after twice its value when the handshake never completed (a frozen service), so a
      // "did not answer within 15000 ms" came after 30 s.
      const deadline = setTimeout(() => {
        const error = new UpstreamError(
          'auth_timeout',
          `the auth service at ${this.options.baseUrl} did not answer within ${timeoutMs} ms`,
        );
        reject(error);
        request.destroy(error);
      }, timeoutMs);
      const resolve = (answer: { status: number; text: string }) => {
        clearTimeout(deadline);
        settleAnswer(answer);
      };
      const reject = (error: unknown) => {
        clearTimeout(deadline);
        settleError(error);
      };
      const request = send(
        {
          protocol: this.url.protocol,
          hostname: this.url.hostname.replace(/^\[|\]$/g, ''),
          port: this.url.port || (isHttps ? 443 : 80),
          method,
          path: `${this.url.pathname.replace(/\/$/, '')}${path}`,
          headers: { ...headers, 'content-length': String(body.length) },
          ...(isHttps ? { agent: this.agent } : {}),
        },
        (response) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_RESPONSE_BYTES) {
              request.destroy(
                new UpstreamError(
                  'response_too_large',
                  `the auth service's answer exceeds ${MAX_RESPONSE_BYTES} bytes`,
                ),
              );
              return;
            }
            chunks.push(chunk);
          });
          response.on('end', () =>
            resolve({ status: response.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
          );
          response.on('error', reject);
        },
      );
      request.on('error', (error: NodeJS.ErrnoException) => {
        if (error instanceof MidError) return reject(error);
        if (request.reusedSocket && (error.code === 'ECONNRESET' || error.code === 'EPIPE')) {
          return reject(new StaleConnectionError(this.options.baseUrl, error));
        }
        reject(new UpstreamError('auth_unreachable', this.explainConnectionError(error), { cause: error }));
      });
      request.end(body);
    });
  }

  /** Why a request got no answer, with what to check. */
  private explainConnectionError(error: NodeJS.ErrnoException): string {
    const service = `the auth service at ${this.options.baseUrl}`;
    if (error.code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
      const host = this.url.hostname.replace(/^\[|\]$/g, '');
      return `${service} presented a certificate that does not name ${host} (${error.code}): the certificate of \`midctl auth start\` names only localhost, the loopback addresses, its --listen host and its --public-addr values; use one of those, or restart it with --public-addr ${host}`;
    }
    if (TLS_TRUST_ERRORS.has(error.code ?? '')) {
      return `${service} presented a certificate this connection does not trust (${error.code}): ${this.options.untrustedCertificateAdvice ?? AGENT_UNTRUSTED_CERTIFICATE_ADVICE}`;
    }
    return `cannot reach ${service}: ${error.code ?? error.message}; check that it is running and the address is right`;
  }

  close(): void {
    this.agent.destroy();
  }
}
