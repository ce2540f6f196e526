import { isIP } from 'node:net';
import { ConfigError } from './errors.js';

/** What is wrong with a `HOST:PORT` (or `[v6]:PORT`) address to listen on, or undefined. Port 0: any free port. */
export function listenAddressProblem(value: string, example: string): string | undefined {
  const match = /^(?:\[([0-9a-fA-F:]+)\]|([^:]+)):(\d{1,5})$/.exec(value);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (
    host === undefined ||
    !(port >= 0 && port <= 65_535) ||
    (match?.[1] !== undefined && isIP(host) !== 6)
  ) {
    return `expected HOST:PORT such as ${example}`;
  }
  return undefined;
}

/** Splits `HOST:PORT` (or `[v6]:PORT`) into its parts, refusing it as the value of `name` (`--listen`). */
export function parseListenAddress(
  value: string,
  name: string,
  example: string,
): { host: string; port: number } {
  const problem = listenAddressProblem(value, example);
  if (problem !== undefined) throw new ConfigError('invalid_flag', `${name}: got "${value}", ${problem}`);
  const separator = value.lastIndexOf(':');
  const host = value.slice(0, separator).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(value.slice(separator + 1)) };
}

const LISTEN_FIXES: Record<string, string> = {
  EADDRINUSE: 'another program already listens there; stop it or choose another port',
  EADDRNOTAVAIL: 'that address is not one of this host; choose one of its addresses, e.g. 127.0.0.1',
  EACCES: 'ports below 1024 need privileges; choose a higher port',
};

/** Node's "listen EADDRINUSE: …" as a refusal of the setting `name` the address came from. */
export function explainListenError(error: unknown, name: string, value: string): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const fix = code === undefined ? undefined : LISTEN_FIXES[code];
  if (fix === undefined || (error as NodeJS.ErrnoException).syscall !== 'listen') return error;
  return new ConfigError('listen_failed', `${name}: cannot listen on ${value} (${code}): ${fix}`, {
    cause: error,
  });
}
