import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../../core/logger.js';
import type { ApiRequest } from './api-request.js';
import type { ApiRouter } from './api-router.js';
import { MAX_BODY_BYTES } from './json-body.js';

export interface HttpsServerOptions {
  readonly router: ApiRouter;
  /** Leaf certificate followed by its CA, so clients can pin the CA from the handshake. */
  readonly certificateChainPem: string;
  readonly privateKeyPem: string;
  readonly host: string;
  readonly port: number;
  readonly logger: Logger;
}

export interface RunningHttpsServer {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** How much of a refused body is still read (and dropped) so that the client can read the 413. */
const MAX_DRAINED_BYTES = 1024 * 1024;

/** Serves the API router over HTTPS with node:https (the local `midctl auth start`). */
export async function startHttpsServer(options: HttpsServerOptions): Promise<RunningHttpsServer> {
  const server: Server = createServer(
    { cert: options.certificateChainPem, key: options.privateKeyPem, minVersion: 'TLSv1.2' },
    (req, res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let refused = false;
      const refuse = () => {
        refused = true;
        chunks.length = 0;
        const path = new URL(req.url ?? '/', 'https://localhost').pathname;
        const meta = {
          requestId: randomUUID(),
          ...(req.socket.remoteAddress === undefined ? {} : { remoteAddr: req.socket.remoteAddress }),
        };
        // Audited (sampled under a flood) before the answer, like every other refusal.
        options.router
          .auditOversizedBody(path, meta)
          .catch((error: unknown) =>
            options.logger.error('audit of an oversized body failed', { error: String(error) }),
          )
          .finally(() => {
            res.writeHead(413, {
              'content-type': 'application/json',
              connection: 'close',
              'x-request-id': meta.requestId,
            });
            res.end(
              JSON.stringify({
                error: {
                  code: 'body_too_large',
                  message: `the request body exceeds ${MAX_BODY_BYTES} bytes`,
                  request_id: meta.requestId,
                },
              }),
            );
          });
      };
      // Refused at once when announced; the rest of the body is then read and dropped (up to a bound)
      // rather than cut off: closing a socket with unread data resets it, and the client would see
      // "socket hang up" instead of the 413 that tells it what was wrong.
      if (Number(req.headers['content-length']) > MAX_BODY_BYTES) refuse();
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (refused) {
          if (size > MAX_BODY_BYTES + MAX_DRAINED_BYTES) req.destroy();
          return;
        }
        if (size > MAX_BODY_BYTES) {
          refuse();
          return;
        }
        chunks.push(chunk);
      });
      req.on('end', () => {
        if (refused) return;
        const url = new URL(req.url ?? '/', 'https://localhost');
        const headers: Record<string, string> = {};
        for (const [name, value] of Object.entries(req.headers)) {
          if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
        }
        const request: ApiRequest = {
          method: req.method ?? 'GET',
          path: url.pathname,
          query: url.searchParams,
          headers,
          body: Buffer.concat(chunks),
          requestId: randomUUID(),
          ...(req.socket.remoteAddress === undefined ? {} : { remoteAddr: req.socket.remoteAddress }),
        };
        options.router
          .handle(request)
          .then((response) => {
            res.writeHead(response.status, { ...response.headers, 'x-request-id': request.requestId });
            res.end(response.body);
          })
          .catch((error: unknown) => {
            options.logger.error('response failed', { error: String(error) });
            res.destroy();
          });
      });
    },
  );
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const hostForUrl = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `https://${hostForUrl === '0.0.0.0' ? '127.0.0.1' : hostForUrl}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
