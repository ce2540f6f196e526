import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** A request as a server received it: enough to send it again byte for byte. */
export interface CapturedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  body: Buffer;
}

/** When a server received a request and when it finished answering it (`performance.now()`). */
export interface RequestSpan {
  readonly start: number;
  end: number;
  /** The request itself, for the ports asked to {@link countServerTraffic}'s `capture`. */
  readonly request?: CapturedRequest;
}

/**
 * Counts HTTP requests and new TCP connections per local server port, for servers the emulators do not
 * count themselves (dynalite) and for connections (which no emulator counts), through Node's built-in
 * diagnostics channels: no change to the servers. Also keeps each request's span, from which
 * {@link waves} tells which requests a client had in flight at once.
 */
export function countServerTraffic() {
  const requests = new Map<number, number>();
  const connections = new Map<number, number>();
  const spans = new Map<number, RequestSpan[]>();
  const capturing = new Set<number>();
  const bump = (map: Map<number, number>, port: number | undefined) => {
    if (port !== undefined) map.set(port, (map.get(port) ?? 0) + 1);
  };
  // server.address() is a system call; once per server, not per request.
  const ports = new WeakMap<Server, number | undefined>();
  const onRequest = (message: unknown) => {
    const { server, request, response } = message as {
      server: Server;
      request: IncomingMessage;
      response: ServerResponse;
    };
    if (!ports.has(server)) ports.set(server, (server.address() as AddressInfo | null)?.port);
    const port = ports.get(server);
    bump(requests, port);
    if (port === undefined) return;
    const span: RequestSpan = {
      start: performance.now(),
      end: Number.POSITIVE_INFINITY,
      ...(capturing.has(port) ? { request: captured(request) } : {}),
    };
    response.once('finish', () => {
      span.end = performance.now();
    });
    const list = spans.get(port) ?? [];
    list.push(span);
    spans.set(port, list);
  };
  const onConnection = (message: unknown) =>
    bump(connections, (message as { socket: Socket }).socket.localPort);
  subscribe('http.server.request.start', onRequest);
  subscribe('net.server.socket', onConnection);
  return {
    requests: (port: number) => requests.get(port) ?? 0,
    connections: (port: number) => connections.get(port) ?? 0,
    /**
     * Keeps the requests to `port` too (method, path, headers, body). Only for servers that read bodies
     * with `data` listeners (dynalite): a server reading with `for await` could miss chunks.
     */
    capture: (port: number) => capturing.add(port),
    /** Stops keeping the requests to `port` (their spans are still kept). */
    release: (port: number) => capturing.delete(port),
    /** The spans of the requests to `port` from the `from`-th on, in arrival order. */
    spans: (port: number, from = 0) => (spans.get(port) ?? []).slice(from),
    stop() {
      unsubscribe('http.server.request.start', onRequest);
      unsubscribe('net.server.socket', onConnection);
    },
  };
}

/**
 * Keeps the span of each HTTP request this thread's clients send to `ports`, from when the request was
 * made to when its response was read, until `stop`: what the client had in flight at once, which the
 * server cannot tell when it runs in another thread (it may answer one request before the next of the
 * same wave arrives).
 */
export function recordClientRequests(ports: readonly number[]) {
  const spans = new Map<number, RequestSpan[]>(ports.map((port) => [port, []]));
  const open = new WeakMap<ClientRequest, RequestSpan>();
  const onStart = (message: unknown) => {
    const { request } = message as { request: ClientRequest };
    const port = Number(String(request.getHeader('host') ?? '').split(':')[1]);
    const list = spans.get(port);
    if (list === undefined) return;
    const span: RequestSpan = { start: performance.now(), end: Number.POSITIVE_INFINITY };
    open.set(request, span);
    list.push(span);
  };
  const onFinish = (message: unknown) => {
    const span = open.get((message as { request: ClientRequest }).request);
    if (span !== undefined) span.end = performance.now();
  };
  subscribe('http.client.request.start', onStart);
  subscribe('http.client.response.finish', onFinish);
  return {
    spans: (port: number): readonly RequestSpan[] => spans.get(port) ?? [],
    stop() {
      unsubscribe('http.client.request.start', onStart);
      unsubscribe('http.client.response.finish', onFinish);
    },
  };
}

/**
 * Groups requests into waves: a request that arrived before every request of the current wave was
 * answered went out alongside them; one that arrived after waited for them. In order, they are the
 * shape of the client's I/O (`[[a, b, c], [d], [e, f]]`: three at once, then one, then two at once).
 */
export function waves(spans: readonly RequestSpan[]): RequestSpan[][] {
  const groups: RequestSpan[][] = [];
  let waveEnd = Number.NEGATIVE_INFINITY;
  for (const span of [...spans].sort((a, b) => a.start - b.start)) {
    const current = groups.at(-1);
    if (current !== undefined && span.start < waveEnd) {
      current.push(span);
      waveEnd = Math.max(waveEnd, span.end);
    } else {
      groups.push([span]);
      waveEnd = span.end;
    }
  }
  return groups;
}

/**
 * Copies the request's method, path, headers and body as they arrive, through a `data` listener of its
 * own beside the server's.
 */
function captured(request: IncomingMessage): CapturedRequest {
  const headers: Record<string, string> = {};
  for (let i = 0; i + 1 < request.rawHeaders.length; i += 2) {
    headers[(request.rawHeaders[i] as string).toLowerCase()] = request.rawHeaders[i + 1] as string;
  }
  const copy: CapturedRequest = {
    method: request.method ?? 'GET',
    path: request.url ?? '/',
    headers,
    body: Buffer.alloc(0),
  };
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.once('end', () => {
    copy.body = Buffer.concat(chunks);
  });
  return copy;
}
