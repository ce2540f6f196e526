import { ConfigError } from '../core/errors.js';

/** Accepts `host:port` as tbot and tctl do, and full https URLs. */
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
  return url.origin;
}
