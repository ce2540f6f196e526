import { readLocalServerInfoIfValid } from './local-server-info.js';

/** Where the last start of a data directory's auth service listened, and the names it served under. */
export interface PreviousStart {
  /** `HOST:PORT`, as `--listen` takes it. */
  readonly listen: string;
  readonly publicAddrs: readonly string[];
}

/**
 * What `auth-server.json` says of the last start, for a start that does not say otherwise: bots were
 * told that address (and certificates those names), so going back to the defaults would cut them off.
 * Undefined when there is no such file or it cannot be read (the defaults then apply, and the start
 * writes the file anew).
 */
export function previousStart(dataDir: string): PreviousStart | undefined {
  const info = readLocalServerInfoIfValid(dataDir);
  if (info?.listen_host === undefined) return undefined;
  const port = new URL(info.url).port;
  if (port === '') return undefined;
  const host = info.listen_host.includes(':') ? `[${info.listen_host}]` : info.listen_host;
  return { listen: `${host}:${port}`, publicAddrs: info.public_addrs ?? [] };
}
