import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * Counts HTTP requests and new TCP connections per local server port, for servers the emulators do not
 * count themselves (dynalite) and for connections (which no emulator counts), through Node's built-in
 * diagnostics channels: no change to the servers.
 */
export function countServerTraffic() {
  const requests = new Map<number, number>();
  const connections = new Map<number, number>();
  const bump = (map: Map<number, number>, port: number | undefined) => {
    if (port !== undefined) map.set(port, (map.get(port) ?? 0) + 1);
  };
  // server.address() is a system call; once per server, not per request.
  const ports = new WeakMap<Server, number | undefined>();
  const onRequest = (message: unknown) => {
    const { server } = message as { server: Server };
    if (!ports.has(server)) ports.set(server, (server.address() as AddressInfo | null)?.port);
    bump(requests, ports.get(server));
  };
  const onConnection = (message: unknown) =>
    bump(connections, (message as { socket: Socket }).socket.localPort);
  subscribe('http.server.request.start', onRequest);
  subscribe('net.server.socket', onConnection);
  return {
    requests: (port: number) => requests.get(port) ?? 0,
    connections: (port: number) => connections.get(port) ?? 0,
    stop() {
      unsubscribe('http.server.request.start', onRequest);
      unsubscribe('net.server.socket', onConnection);
    },
  };
}
