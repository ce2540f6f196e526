import { ConfigError } from '../core/errors.js';

/**
 * Why a path written in an auth server address cannot be the prefix of the API's routes, or undefined.
 * A path is such a prefix (an API Gateway stage, a custom domain's base path), and clients add
 * `/v1/...` after it: an address copied with `/v1` in it would ask for `/v1/v1/ping`.
 *
 * @param origin `https://host[:port]`, for the address to write instead.
 * @param client the command that adds the API's path, as the message names it.
 */
export function apiPathProblem(
  origin: string,
  pathname: string,
  client: 'midbot' | 'midctl',
): string | undefined {
  const segments = pathname.replace(/\/+$/, '').split('/');
  const api = segments.indexOf('v1');
  if (api === -1) return undefined;
  return `expected the address without the API's path /v1, which ${client} adds itself: write ${origin}${segments.slice(0, api).join('/')}`;
}

/**
 * midctl's `--auth-server`: `host:port` as tbot and tctl take it, or an https URL, whose path (without
 * a trailing `/`) prefixes the API's routes as midbot's `auth_server` does.
 */
export function normaliseAuthServer(value: string): string {
  const withScheme = /^[a-z]+:\/\//i.test(value) ? value : `https://${value}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new ConfigError(
      'invalid_auth_server',
      `--auth-server: "${value}" is not an address; write it as host:port or https://host:port`,
    );
  }
  if (url.protocol !== 'https:') {
    throw new ConfigError('invalid_auth_server', `--auth-server: "${value}" must use https`);
  }
  const problem = apiPathProblem(url.origin, url.pathname, 'midctl');
  if (problem !== undefined) {
    throw new ConfigError('invalid_auth_server', `--auth-server: got "${value}", ${problem}`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}
