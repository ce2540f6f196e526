import http, { type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';
import { pipeline } from 'node:stream';
import type { Logger } from '../../core/logger.js';
import type { AppCredentialsFolder } from './app-credentials.js';
import { AppUpstream, statusText, UpstreamError } from './app-upstream.js';
import { refusalOf } from './local-request-checks.js';
import { listenOnLoopback } from './loopback-listeners.js';

export interface LocalAppProxyOptions {
  readonly credentials: AppCredentialsFolder;
  /** Where the app serves HTTPS (its `spec.uri`); a path is a prefix of every request's path. */
  readonly appUri: URL;
  /** CA certificates (PEM) the app's server certificate must chain to. @default the system's */
  readonly appCaPem?: string;
  /** @default 0: any port free on both loopback addresses */
  readonly port?: number;
  /** How long a connection to the app may stay silent before it is given up. @default 120 s */
  readonly idleTimeoutMs?: number;
  readonly logger: Logger;
}

export interface LocalAppProxy {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Where it listens: 127.0.0.1 and, where the machine has it, [::1]. */
  readonly addresses: readonly string[];
  close(): Promise<void>;
}

const APP_IDLE_TIMEOUT_MS = 120_000;

/**
 * `midbot proxy app`: plain HTTP on the loopback addresses, each request sent on to the app over HTTPS
 * with the app's certificate from an application output (tbot's `proxy app`), for tools that cannot
 * present a client certificate (a browser, a script, an SDK without mTLS options). Connection upgrades
 * (WebSocket) are passed through.
 *
 * There is no Teleport proxy in between: the app itself checks the certificate, as with `curl --cert`.
 * Any program on this machine that can connect to the loopback address uses the app as the bot does;
 * `refusalOf` keeps web pages out.
 */
export async function startLocalAppProxy(options: LocalAppProxyOptions): Promise<LocalAppProxy> {
  const { logger } = options;
  const upstream = new AppUpstream({
    ...options,
    idleTimeoutMs: options.idleTimeoutMs ?? APP_IDLE_TIMEOUT_MS,
  });
  const tunnels = new Set<Socket>();
  let port = 0;

  const handleRequest = (request: IncomingMessage, response: http.ServerResponse) => {
    const started = performance.now();
    const refusal = refusalOf(request, port);
    if (refusal !== undefined) {
      return fail(response, new UpstreamError('refused', refusal.message, refusal.status), logger);
    }
    let forwarded: http.ClientRequest;
    try {
      forwarded = upstream.request(request);
    } catch (error) {
      return fail(response, upstream.explain(error as Error, false), logger);
    }
    forwarded.on('response', (answer) => {
      const status = answer.statusCode ?? 502;
      response.writeHead(
        status,
        statusText(status, answer.statusMessage),
        upstream.answerHeaders(answer, request),
      );
      pipeline(answer, response, () => {});
      logger.debug(`${request.method} ${pathOnly(request)} → ${status}`, {
        ms: Math.round(performance.now() - started),
      });
    });
    forwarded.on('error', (error) => fail(response, upstream.explain(error, response.headersSent), logger));
    // A client that gives up takes its request to the app with it.
    response.on('close', () => {
      if (!response.writableFinished) forwarded.destroy();
    });
    pipeline(request, forwarded, () => {});
  };

  const handleUpgrade = (request: IncomingMessage, socket: Socket, head: Buffer) => {
    // Node takes its own handler off an upgraded socket: without this, a client's reset ends midbot.
    socket.on('error', () => socket.destroy());
    const refusal = refusalOf(request, port);
    if (refusal !== undefined)
      return failRaw(socket, new UpstreamError('refused', refusal.message, refusal.status), logger);
    const protocol = String(request.headers.upgrade ?? '');
    // h2c asks for cleartext HTTP/2, which has no meaning over the TLS to the app (curl --http2 asks
    // on every request): the request goes on as an ordinary one, as a server that ignores it answers.
    const switching = protocol.toLowerCase() !== 'h2c';
    if (!switching && request.headers['transfer-encoding'] !== undefined) {
      return failRaw(
        socket,
        new UpstreamError(
          'refused',
          'a chunked body with Upgrade: h2c is not supported; send it without the upgrade',
          501,
        ),
        logger,
      );
    }
    let forwarded: http.ClientRequest;
    try {
      forwarded = upstream.request(request, switching ? protocol : undefined);
    } catch (error) {
      return failRaw(socket, upstream.explain(error as Error, false), logger);
    }
    socket.on('close', () => forwarded.destroy());
    forwarded.on('error', (error) => failRaw(socket, upstream.explain(error, false), logger));
    // The app did not switch protocols: its answer is the last thing on this connection.
    forwarded.on('response', (answer) =>
      writeRawAnswer(socket, answer, upstream.answerHeaders(answer, request)),
    );
    forwarded.on('upgrade', (answer: IncomingMessage, appSocket: Socket, appHead: Buffer) => {
      writeRawHead(socket, 101, answer.statusMessage, answer.rawHeaders);
      for (const end of [socket, appSocket]) {
        tunnels.add(end);
        end.on('close', () => tunnels.delete(end));
      }
      if (appHead.length > 0) socket.write(appHead);
      if (head.length > 0) appSocket.write(head);
      // Each way on its own (a pipeline through one socket twice piles listeners on it); when either
      // end goes, both do.
      appSocket.on('error', () => appSocket.destroy());
      // The silence limit is for answers (a WebSocket may rightly stay quiet longer); the request's
      // listener is gone with the upgrade, and this stops the timer it leaves on the socket.
      appSocket.setTimeout(0);
      appSocket.pipe(socket);
      socket.pipe(appSocket);
      const closeBoth = () => {
        socket.destroy();
        appSocket.destroy();
      };
      socket.on('close', closeBoth);
      appSocket.on('close', closeBoth);
    });
    if (switching) forwarded.end();
    else sendBody(request, socket, head, forwarded);
  };

  const listening = await listenOnLoopback(options.port ?? 0, () => {
    // No limit on receiving a whole request (an upload may take long); headers still get 60 s.
    const server = http.createServer({ requestTimeout: 0 }, handleRequest);
    server.on('upgrade', handleUpgrade);
    return server;
  });
  port = listening.port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    addresses: listening.servers.map((server) => {
      const { address } = server.address() as { address: string };
      return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
    }),
    close: async () => {
      const closed = listening.servers.map(
        (server) => new Promise<void>((resolve) => server.close(() => resolve())),
      );
      for (const server of listening.servers) server.closeAllConnections();
      // Upgraded connections are no longer the servers' to close.
      for (const tunnel of tunnels) tunnel.destroy();
      upstream.close();
      await Promise.all(closed);
    },
  };
}

/** The body of a request the upgrade event handed over raw: `Content-Length` bytes, from `head` on. */
function sendBody(
  request: IncomingMessage,
  socket: Socket,
  head: Buffer,
  forwarded: http.ClientRequest,
): void {
  let remaining = Number(request.headers['content-length'] ?? 0);
  const take = (chunk: Buffer) => {
    const part = chunk.subarray(0, remaining);
    remaining -= part.length;
    if (part.length > 0) forwarded.write(part);
    if (remaining > 0) return;
    socket.off('data', take);
    forwarded.end();
  };
  take(head);
  if (remaining > 0) socket.on('data', take);
}

/** The path of a request without its query, which may hold tokens: for the debug log. */
function pathOnly(request: IncomingMessage): string {
  return (request.url ?? '/').split('?')[0] ?? '/';
}

function fail(response: http.ServerResponse, error: UpstreamError, logger: Logger): void {
  // The client went away (its request was cut off with it): nobody to tell.
  if (response.destroyed) return;
  logger.warn(error.message, { code: error.code });
  if (response.headersSent) {
    response.destroy();
    return;
  }
  response.writeHead(error.httpStatus, { 'content-type': 'text/plain; charset=utf-8' });
  response.end(`midbot proxy: ${error.message}\n`);
}

function failRaw(socket: Socket, error: UpstreamError, logger: Logger): void {
  if (socket.destroyed) return;
  logger.warn(error.message, { code: error.code });
  const body = `midbot proxy: ${error.message}\n`;
  writeRawHead(socket, error.httpStatus, undefined, [
    'content-type',
    'text/plain; charset=utf-8',
    'content-length',
    String(Buffer.byteLength(body)),
    'connection',
    'close',
  ]);
  socket.end(body);
}

/** An answer written straight to a socket, its body ending with the connection. */
function writeRawAnswer(socket: Socket, answer: IncomingMessage, headers: OutgoingHttpHeaders): void {
  const raw: string[] = [];
  for (const [name, value] of Object.entries(headers)) {
    for (const one of Array.isArray(value) ? value : [value])
      if (one !== undefined) raw.push(name, String(one));
  }
  const status = answer.statusCode ?? 502;
  writeRawHead(socket, status, answer.statusMessage, [...raw, 'connection', 'close']);
  pipeline(answer, socket, () => {});
}

function writeRawHead(
  socket: Socket,
  status: number,
  message: string | undefined,
  rawHeaders: readonly string[],
): void {
  const lines = [`HTTP/1.1 ${status} ${statusText(status, message)}`];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) lines.push(`${rawHeaders[i]}: ${rawHeaders[i + 1]}`);
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
}
