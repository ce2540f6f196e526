import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';

/** A Lambda handler for API Gateway HTTP API events (what lambdas/auth.ts exports). */
export type HttpApiHandler = (event: unknown, context: { awsRequestId: string }) => Promise<unknown>;

export interface LambdaHttpAdapter {
  readonly url: string;
  readonly port: number;
  /** How many requests reached the handler. */
  readonly invocations: () => number;
  stop(): Promise<void>;
}

interface HttpApiResult {
  statusCode: number;
  headers?: Record<string, string>;
  body?: string;
}

/**
 * Stands in for API Gateway in front of the real auth Lambda handler: HTTPS on loopback, each request
 * turned into an HTTP API payload 2.0 event (lower-case headers, raw path and query) and the handler's
 * structured result turned back into the response. Like the real API's public routes, it never sets the
 * IAM authoriser context, so admin routes are refused here just as they would be without SigV4.
 */
export async function startLambdaHttpAdapter(options: {
  handler: HttpApiHandler;
  certPem: string;
  keyPem: string;
  port?: number;
}): Promise<LambdaHttpAdapter> {
  let count = 0;
  const server: Server = createServer({ cert: options.certPem, key: options.keyPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      count += 1;
      const url = new URL(req.url ?? '/', 'https://adapter');
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(req.headers)) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(',') : value;
      }
      const body = Buffer.concat(chunks);
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
        },
      };
      options
        .handler(event, { awsRequestId: requestId })
        .then((result) => {
          const answer = result as HttpApiResult;
          res.writeHead(answer.statusCode, answer.headers ?? {});
          res.end(answer.body ?? '');
        })
        .catch(() => {
          // What API Gateway answers when the integration throws.
          res.writeHead(500, { 'content-type': 'application/json' });
          res.end('{"message":"Internal Server Error"}');
        });
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
