import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { type SigV4Credentials, verifySigV4 } from './sigv4-verifier.js';

/** What the adapter passes as the Lambda context: the request id and the time left, as Lambda does. */
export interface LambdaContextStandIn {
  readonly awsRequestId: string;
  getRemainingTimeInMillis(): number;
}

/** A Lambda handler for API Gateway HTTP API events (what lambdas/auth.ts exports). */
export type HttpApiHandler = (event: unknown, context: LambdaContextStandIn) => Promise<unknown>;

/** The auth Lambda's timeout in the stack (`machine-id-auth.ts`). */
const AUTH_FUNCTION_TIMEOUT_MS = 29_000;

export interface LambdaHttpAdapter {
  readonly url: string;
  readonly port: number;
  /** How many requests reached the handler (not those the IAM authoriser refused). */
  readonly invocations: () => number;
  stop(): Promise<void>;
}

/**
 * API Gateway's IAM authoriser on the admin routes (`ANY /v1/admin/{proxy+}` with `AWS_IAM`): a request
 * must carry a valid SigV4 signature for `execute-api` in `region` by one of `principals`' keys; the
 * event then carries that principal's ARN as `requestContext.authorizer.iam.userArn`.
 */
export interface IamAuthoriser {
  readonly region: string;
  readonly principals: ReadonlyArray<{ readonly credentials: SigV4Credentials; readonly arn: string }>;
}

const ADMIN_ROUTES = '/v1/admin/';

interface HttpApiResult {
  statusCode: number;
  headers?: Record<string, string>;
  body?: string;
}

/**
 * Stands in for API Gateway in front of the real auth Lambda handler: HTTPS on loopback, each request
 * turned into an HTTP API payload 2.0 event (lower-case headers, raw path and query) and the handler's
 * structured result turned back into the response. Without `iamAuthoriser` it never sets the IAM
 * authoriser context, so admin routes are refused by the handler as they would be without SigV4; with
 * it, admin routes need a valid signature (403 `Forbidden` otherwise, before the handler), as deployed.
 */
export async function startLambdaHttpAdapter(options: {
  handler: HttpApiHandler;
  certPem: string;
  keyPem: string;
  port?: number;
  iamAuthoriser?: IamAuthoriser;
  /** The function's timeout: past it, the request gets API Gateway's answer for a timed-out Lambda. */
  functionTimeoutMs?: number;
}): Promise<LambdaHttpAdapter> {
  const functionTimeoutMs = options.functionTimeoutMs ?? AUTH_FUNCTION_TIMEOUT_MS;
  let count = 0;
  const server: Server = createServer({ cert: options.certPem, key: options.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'https://adapter');
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
      }
      const body = Buffer.concat(chunks);
      let authorizer: { iam: { userArn: string } } | undefined;
      if (options.iamAuthoriser !== undefined && url.pathname.startsWith(ADMIN_ROUTES)) {
        const { region, principals } = options.iamAuthoriser;
        const verdict = verifySigV4(
          { method: req.method ?? '', url: req.url ?? '/', rawHeaders: req.rawHeaders, body },
          {
            service: 'execute-api',
            region,
            now: Date.now(),
            lookup: (id) => principals.find((p) => p.credentials.accessKeyId === id)?.credentials,
          },
        );
        const principal = verdict.ok
          ? principals.find((p) => p.credentials.accessKeyId === verdict.accessKeyId)
          : undefined;
        if (principal === undefined) {
          res.writeHead(403, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ message: verdict.ok ? 'Forbidden' : verdict.message }));
          return;
        }
        authorizer = { iam: { userArn: principal.arn } };
      }
      count += 1;
      const requestId = randomUUID();
      const event = {
        version: '2.0',
        routeKey: '$default',
        rawPath: url.pathname,
        rawQueryString: url.search.replace(/^\?/, ''),
        headers,
        ...(body.length === 0 ? {} : { body: body.toString('base64'), isBase64Encoded: true }),
        requestContext: {
          requestId,
          http: {
            method: req.method ?? 'GET',
            path: url.pathname,
            sourceIp: req.socket.remoteAddress ?? '127.0.0.1',
          },
          ...(authorizer === undefined ? {} : { authorizer }),
        },
      };
      const timesOutAt = Date.now() + functionTimeoutMs;
      const internalServerError = () => {
        if (res.headersSent) return;
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end('{"message":"Internal Server Error"}');
      };
      // What API Gateway answers when the function times out (the handler's late answer is dropped).
      const timeout = setTimeout(internalServerError, functionTimeoutMs);
      options
        .handler(event, {
          awsRequestId: requestId,
          getRemainingTimeInMillis: () => Math.max(0, timesOutAt - Date.now()),
        })
        .then((result) => {
          if (res.headersSent) return;
          const answer = result as HttpApiResult;
          res.writeHead(answer.statusCode, answer.headers ?? {});
          res.end(answer.body ?? '');
        })
        // What API Gateway answers when the integration throws.
        .catch(internalServerError)
        .finally(() => clearTimeout(timeout));
    });
  });
  await new Promise<void>((done) => server.listen(options.port ?? 0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  return {
    url: `https://127.0.0.1:${port}`,
    port,
    invocations: () => count,
    stop: () =>
      new Promise<void>((done) => {
        server.close(() => done());
        server.closeAllConnections();
      }),
  };
}
