import type { IncomingMessage } from 'node:http';

/** Why a request that reached the local listener is not sent on to the app. */
export interface LocalRefusal {
  readonly status: number;
  readonly message: string;
}

/**
 * The checks every request passes before the app sees it with the bot's certificate. Binding to
 * loopback keeps other machines out, but not a web page in a browser on this one: it can send a form
 * POST to `http://127.0.0.1:PORT` (cross-site), or have its own DNS name point at 127.0.0.1 (DNS
 * rebinding) and then read the answers. So the `Host` must be this proxy's own address, and a request a
 * browser marks as coming from another site is refused. Programs (curl, SDKs) send neither mark.
 */
export function refusalOf(request: IncomingMessage, port: number): LocalRefusal | undefined {
  const target = request.url ?? '';
  if (!target.startsWith('/')) {
    return {
      status: 400,
      message: `the request target ${JSON.stringify(target.slice(0, 100))} is not a path; send requests to this proxy as to a web server (GET /api/users), not as to a forward proxy`,
    };
  }
  const local = localAuthorities(port);
  const host = request.headers.host?.toLowerCase();
  if (host === undefined || !local.includes(host)) {
    return {
      status: 421,
      message: `Host ${JSON.stringify(host ?? '')} is not this proxy's address; it answers requests for ${local.join(', ')} only (a DNS name that points at 127.0.0.1 is refused, as a web page could use one to reach the app)`,
    };
  }
  const origin = request.headers.origin;
  if (origin !== undefined && origin !== 'null' && !local.includes(authorityOf(origin))) {
    return crossSite(`the web page at ${origin}`);
  }
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') {
    return crossSite(`a web page of another site (Sec-Fetch-Site: ${site})`);
  }
  return undefined;
}

function crossSite(who: string): LocalRefusal {
  return {
    status: 403,
    message: `a request from ${who} is refused: it would reach the app with the bot's certificate; open the app at this proxy's own address instead`,
  };
}

/** `Host` values that name this proxy. */
function localAuthorities(port: number): string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`];
}

/** `host:port` of an origin such as `http://localhost:1234`, or '' when it is none. */
function authorityOf(origin: string): string {
  try {
    const url = new URL(origin);
    return url.protocol === 'http:' ? url.host : '';
  } catch {
    return '';
  }
}
