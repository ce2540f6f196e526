import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Server, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** When a server received a request and when it finished answering it (`performance.now()`). */
export interface RequestSpan {
  readonly start: number;
  end: number;
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
  const bump = (map: Map<number, number>, port: number | undefined) => {
    if (port !== undefined) map.set(port, (map.get(port) ?? 0) + 1);
  };
  // server.address() is a system call; once per server, not per request.
  const ports = new WeakMap<Server, number | undefined>();
  const onRequest = (message: unknown) => {
    const { server, response } = message as { server: Server; response: ServerResponse };
    if (!ports.has(server)) ports.set(server, (server.address() as AddressInfo | null)?.port);
    const port = ports.get(server);
    bump(requests, port);
    if (port === undefined) return;
    const span: RequestSpan = { start: performance.now(), end: Number.POSITIVE_INFINITY };
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
    /** The spans of the requests to `port` from the `from`-th on, in arrival order. */
    spans: (port: number, from = 0) => (spans.get(port) ?? []).slice(from),
    stop() {
      unsubscribe('http.server.request.start', onRequest);
      unsubscribe('net.server.socket', onConnection);
    },
  };
}

/**
 * Groups requests into waves: a request that arrived before every request of the current wave was
 * answered went out alongside them; one that arrived after waited for them. The sizes, in order, are
 * the shape of the client's I/O (`[3, 1, 2]`: three at once, then one, then two at once).
 */
export function waves(spans: readonly RequestSpan[]): number[] {
  const sizes: number[] = [];
  let waveEnd = Number.NEGATIVE_INFINITY;
  for (const span of [...spans].sort((a, b) => a.start - b.start)) {
    if (span.start < waveEnd && sizes.length > 0) {
      sizes[sizes.length - 1] = (sizes.at(-1) ?? 0) + 1;
      waveEnd = Math.max(waveEnd, span.end);
    } else {
      sizes.push(1);
      waveEnd = span.end;
    }
  }
  return sizes;
}
