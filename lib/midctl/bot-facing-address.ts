import { isIP } from 'node:net';

/** How the local auth service was started, as it records it in `auth-server.json`. */
export interface ServedAddresses {
  /** The host of `--listen` (`0.0.0.0` for all interfaces). */
  readonly listenHost: string;
  /** `--public-addr`: the names other hosts reach it by, which its certificate carries. */
  readonly publicAddrs: readonly string[];
}

/** The auth service address to give a new bot, and a note when it works only on this host. */
export interface BotFacingAddress {
  readonly url: string;
  readonly note?: string;
}

const ALL_INTERFACES = new Set(['0.0.0.0', '::']);

function isLoopback(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, '');
  return host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));
}

/**
 * What `midctl bots add` prints as `--auth-server` for the bot. midctl calls the local service at a
 * loopback address (the one it records for local callers, 127.0.0.1 when it listens on all
 * interfaces), which only works on this host: the first `--public-addr` is what other hosts use. With
 * none, a service listening on all interfaces is reachable from elsewhere, but its certificate names
 * no address of this host a bot there would use, so the note says how to give it one.
 */
export function botFacingAddress(adminUrl: string, served: ServedAddresses | undefined): BotFacingAddress {
  const url = new URL(adminUrl);
  if (served === undefined || !isLoopback(url.hostname)) return { url: adminUrl };
  const [publicAddr] = served.publicAddrs;
  const port = url.port === '' ? '' : `:${url.port}`;
  if (publicAddr !== undefined) {
    return { url: `${url.protocol}//${isIP(publicAddr) === 6 ? `[${publicAddr}]` : publicAddr}${port}` };
  }
  if (!ALL_INTERFACES.has(served.listenHost)) return { url: adminUrl };
  return {
    url: adminUrl,
    note: `${adminUrl} works only on this host: the auth service listens on all interfaces (${served.listenHost}), but its certificate names only localhost and loopback addresses, so midbot on another host cannot use any address of this one; restart \`midctl auth start\` with --public-addr <this host's DNS name or IP> (the address the bot will use), and use https://<that address>${port}`,
  };
}
