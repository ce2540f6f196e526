import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** An HTTP server on 127.0.0.1 with a kernel-chosen port, for the wire-level emulators. */
export interface LoopbackServer {
  url: string;
  port: number;
  /**
   * Waits `ms` unless the server stops first. Resolves `true` when the time passed, `false` when
   * the server stopped (the caller should then give up on the request).
   */
  sleep(ms: number): Promise<boolean>;
  stop(): Promise<void>;
}

/** Thrown by {@link readBody} when the body is over its limit. */
export class BodyTooLargeError extends Error {
  constructor(limit: number) {
    super(`request body is over ${limit} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

export async function startLoopbackServer(
  handler: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
): Promise<LoopbackServer> {
  const sleepers = new Set<{ timer: NodeJS.Timeout; resolve: (done: boolean) => void }>();
  let stopped = false;
  const server = createServer((req, res) => {
    handler(req, res).catch((error: unknown) => {
      if (res.headersSent || res.destroyed) {
        res.destroy();
        return;
      }
      const status = error instanceof BodyTooLargeError ? 413 : 500;
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`emulator error: ${error instanceof Error ? error.message : String(error)}`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    sleep(ms) {
      if (stopped) return Promise.resolve(false);
      return new Promise((resolve) => {
        const sleeper = {
          timer: setTimeout(() => {
            sleepers.delete(sleeper);
            resolve(true);
          }, ms),
          resolve,
        };
        sleepers.add(sleeper);
      });
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      for (const sleeper of sleepers) {
        clearTimeout(sleeper.timer);
        sleeper.resolve(false);
      }
      sleepers.clear();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

/** Reads the whole request body, refusing more than `limit` bytes. */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > limit) throw new BodyTooLargeError(limit);
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}
