import { LOCAL_AUTH_PORT } from '../../api/local-auth-port.js';

/** An explicit port in an address as the config schema normalised it (`URL` drops a written `:443`). */
const PORT_WRITTEN = /^[a-z]+:\/\/(?:\[[^\]]*\]|[^/:]*):\d/i;

/**
 * Why no TLS connection to the auth service could be made, and what to check. An address written
 * without a port goes to 443, the https default, while a local `midctl auth start` listens on its own
 * port: a refused connection there most likely means the port was left out.
 *
 * @param authServer the normalised address, e.g. `https://127.0.0.1`
 */
export function unreachableMessage(authServer: string, error: NodeJS.ErrnoException): string {
  const cannot = `cannot reach the auth service at ${authServer}: ${error.code ?? error.message}`;
  if (error.code === 'ECONNREFUSED' && !PORT_WRITTEN.test(authServer)) {
    const host = new URL(authServer).host;
    return `${cannot}; the address names no port, so midbot connected to 443, the https default, and nothing listens there. \`midctl auth start\` listens on ${LOCAL_AUTH_PORT} unless --listen says otherwise: write the port, e.g. ${host}:${LOCAL_AUTH_PORT}`;
  }
  return `${cannot}; check that it is running and the address is right`;
}
