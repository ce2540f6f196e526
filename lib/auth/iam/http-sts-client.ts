import {
  type ClientRequest,
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
} from 'node:http';
import { Agent, request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import { ConfigError } from '../../core/errors.js';
import { type StsAnswer, StsCallError, type StsCaller, type StsRequest } from './sts-caller.js';

/** GetCallerIdentity answers in well under a second; a slow STS should not hold a join (or a Lambda). */
export const DEFAULT_STS_TIMEOUT_MS = 5_000;
/** A GetCallerIdentity answer is under 1 KiB; 64 KiB leaves room for error documents and nothing more. */
export const DEFAULT_STS_MAX_RESPONSE_BYTES = 64 * 1024;

export interface HttpStsClientOptions {
  /** Whole exchange: connect, send, answer. @default 5000 */
  readonly timeoutMs?: number;
  /** Answers longer than this are abandoned unread. @default 65536 */
  readonly maxResponseBytes?: number;
  /**
   * TESTS ONLY: send to this loopback URL (`http://127.0.0.1:PORT`) instead of the STS host, keeping the
   * validated STS host in the `host` header as signed. Refused unless the host is loopback, so that a
   * misconfigured production service cannot be pointed at an attacker's "STS".
   * @default undefined (connect to the validated STS host on 443 with TLS)
   */
  readonly stsEndpointOverrideForTests?: string;
}

interface Target {
  readonly protocol: 'http:' | 'https:';
  readonly hostname: string;
  readonly port: number;
}

const LOOPBACK_NAMES = new Set(['localhost']);

function isLoopback(hostname: string): boolean {
  const bare = hostname.replace(/^\[|\]$/g, '');
  if (LOOPBACK_NAMES.has(bare.toLowerCase())) return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1';
  return false;
}

/** Checks the test override; exported so CLI flags give the same error before anything starts. */
export function parseStsEndpointOverride(value: string): Target {
  let url: URL;
  try {
    url = new URL(value);
  } catch (error) {
    throw new ConfigError(
      'invalid_sts_endpoint_override',
      `the STS endpoint override "${value}" is not a URL; use http://127.0.0.1:PORT`,
      { cause: error },
    );
  }
  if (
    (url.protocol !== 'http:' && url.protocol !== 'https:') ||
    url.username !== '' ||
    url.password !== '' ||
    (url.pathname !== '/' && url.pathname !== '') ||
    url.search !== '' ||
    url.hash !== ''
  ) {
    throw new ConfigError(
      'invalid_sts_endpoint_override',
      `the STS endpoint override "${value}" must be a bare http(s)://HOST:PORT URL`,
    );
  }
  if (!isLoopback(url.hostname)) {
    throw new ConfigError(
      'invalid_sts_endpoint_override',
      `the STS endpoint override "${value}" is not a loopback address (127.0.0.0/8, ::1, localhost); it exists for tests against a local emulator only`,
    );
  }
  const protocol = url.protocol as Target['protocol'];
  return {
    protocol,
    hostname: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port === '' ? (protocol === 'https:' ? 443 : 80) : Number(url.port),
  };
}

/**
 * The adapter that sends the server-built GetCallerIdentity request (node:https, TLS verified against
 * the STS host name). No redirects are followed (node never does), nothing is retried, the whole
 * exchange has one deadline and the answer a size cap.
 */
export class HttpStsClient implements StsCaller {
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  private readonly override: Target | undefined;
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 });
  // The loopback emulator's connections are kept open too, so that tests and the bench send the way the
  // service sends to STS (one connection reused by a warm Lambda), not a new connection per join.
  private readonly plainAgent = new HttpAgent({ keepAlive: true, maxSockets: 64 });

  constructor(options: HttpStsClientOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? DEFAULT_STS_TIMEOUT_MS;
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_STS_MAX_RESPONSE_BYTES;
    this.override =
      options.stsEndpointOverrideForTests === undefined
        ? undefined
        : parseStsEndpointOverride(options.stsEndpointOverrideForTests);
  }

  send(request: StsRequest): Promise<StsAnswer> {
    const target: Target = this.override ?? { protocol: 'https:', hostname: request.host, port: 443 };
    const body = Buffer.from(request.body, 'utf8');
    const headers: Record<string, string> = {};
    for (const [name, value] of request.headers) headers[name] = value;
    headers['content-length'] = String(body.length);
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    return new Promise<StsAnswer>((resolve, reject) => {
      let settled = false;
      let req: ClientRequest | undefined;
      const finish = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        outcome();
      };
      // One deadline for the whole exchange, a retry included.
      const timer = setTimeout(() => {
        const error = new StsCallError('sts_timeout', `STS did not answer within ${this.timeoutMs} ms`);
        finish(() => reject(error));
        req?.destroy(error);
      }, this.timeoutMs);
      const attempt = (isRetry: boolean) => {
        let answered = false;
        const current = send(
          {
            protocol: target.protocol,
            hostname: target.hostname,
            port: target.port,
            method: 'POST',
            path: '/',
            headers,
            // The signed host header must reach STS unchanged; TLS still checks the certificate against
            // the host we connect to.
            setHost: false,
            ...(target.protocol === 'https:'
              ? { agent: this.agent, servername: target.hostname, minVersion: 'TLSv1.2' as const }
              : { agent: this.plainAgent }),
          },
          (response) => {
            answered = true;
            this.read(response, current, finish, resolve, reject);
          },
        );
        req = current;
        current.on('error', (error) => {
          if (settled) return;
          // A kept-alive connection that STS closed while the Lambda was frozen between invocations
          // fails as soon as it is written to. Nothing reached STS, and GetCallerIdentity changes
          // nothing anyway: send again, once, on a new connection (node's documented way).
          if (!isRetry && !answered && current.reusedSocket && isStaleConnectionError(error)) {
            attempt(true);
            return;
          }
          finish(() =>
            reject(
              error instanceof StsCallError
                ? error
                : new StsCallError('sts_unreachable', `STS could not be reached: ${error.message}`, {
                    cause: error,
                  }),
            ),
          );
        });
        current.end(body);
      };
      attempt(false);
    });
  }

  private read(
    response: IncomingMessage,
    req: ClientRequest,
    finish: (outcome: () => void) => void,
    resolve: (answer: StsAnswer) => void,
    reject: (error: unknown) => void,
  ): void {
    const tooLarge = () =>
      new StsCallError(
        'sts_response_too_large',
        `STS's answer is larger than ${this.maxResponseBytes} bytes`,
      );
    const declared = Number(response.headers['content-length'] ?? '0');
    if (declared > this.maxResponseBytes) {
      const error = tooLarge();
      finish(() => reject(error));
      req.destroy(error);
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    response.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > this.maxResponseBytes) {
        const error = tooLarge();
        finish(() => reject(error));
        req.destroy(error);
        return;
      }
      chunks.push(chunk);
    });
    response.on('end', () =>
      finish(() =>
        resolve({
          status: response.statusCode ?? 0,
          contentType: response.headers['content-type'],
          body: Buffer.concat(chunks),
        }),
      ),
    );
    response.on('error', (error) =>
      finish(() => reject(new StsCallError('sts_unreachable', `STS's answer broke off: ${error.message}`))),
    );
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.agent.destroy();
  }
}

/** How a write to a connection the other end has already closed fails. */
function isStaleConnectionError(error: Error): boolean {
  const code = (error as NodeJS.ErrnoException).code;
  return code === 'ECONNRESET' || code === 'EPIPE';
}
