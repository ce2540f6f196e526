import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from '../../core/errors.js';

/** Errors of an IPv6 listen on a machine without IPv6 loopback. */
const NO_IPV6 = new Set(['EADDRNOTAVAIL', 'EAFNOSUPPORT', 'EINVAL']);

/**
 * Listens on `port` of both loopback addresses, 127.0.0.1 and ::1 (where the machine has it), with a
 * server from `makeServer` on each. Both, because `localhost` resolves to ::1 first on most systems:
 * listening on 127.0.0.1 alone would leave [::1]:PORT to any other local user, who would then get what
 * a client sends to `http://localhost:PORT` (passwords included). Port 0 takes a port free on both.
 *
 * @throws ConfigError `port_in_use` when the port given is taken on either address
 */
export async function listenOnLoopback(
  port: number,
  makeServer: () => Server,
): Promise<{ servers: Server[]; port: number }> {
  for (let attempt = 1; ; attempt += 1) {
    const ipv4 = makeServer();
    await listen(ipv4, port, '127.0.0.1');
    const chosen = (ipv4.address() as AddressInfo).port;
    const ipv6 = makeServer();
    try {
      await listen(ipv6, chosen, '::1');
      return { servers: [ipv4, ipv6], port: chosen };
    } catch (error) {
      if (NO_IPV6.has((error as NodeJS.ErrnoException).code ?? '')) return { servers: [ipv4], port: chosen };
      ipv4.close();
      // A port chosen for 127.0.0.1 may be taken on ::1: choose again, a few times.
      if (port !== 0 || attempt >= 5) throw error;
    }
  }
}

async function listen(server: Server, port: number, host: string): Promise<void> {
  server.listen(port, host);
  try {
    await once(server, 'listening');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EADDRINUSE' && port !== 0) {
      throw new ConfigError(
        'port_in_use',
        `--port ${port}: ${host.includes(':') ? `[${host}]` : host}:${port} is in use by another program; choose another port, or leave --port out to take any free one`,
      );
    }
    throw error;
  }
}
