import { UpstreamError } from '../../core/errors.js';

/**
 * Names from the auth service end up in ssh_config and known_hosts, where a space, comma, quote or
 * newline would change what the file says. They are checked here, at the last step before writing.
 */
const HOST_NAME = /^[A-Za-z0-9_](?:[A-Za-z0-9._-]{0,252})$/;
const IPV6 = /^[0-9A-Fa-f:.]{2,45}$/;

export interface SshAddress {
  readonly host: string;
  readonly port: number;
}

/** Throws unless `name` is a plain host name (letters, digits, `.`, `_`, `-`). */
export function checkHostName(name: string, what: string): string {
  if (!HOST_NAME.test(name)) {
    throw new UpstreamError(
      'unsafe_name_in_response',
      `the auth service sent ${what} ${JSON.stringify(name.slice(0, 80))}, which cannot be written safely into ssh_config or known_hosts; rename the resource`,
    );
  }
  return name;
}

/** `host`, `host:port`, `[v6]:port` or a bare IPv6 address; port 22 when none is given. */
export function parseSshAddress(addr: string, what: string): SshAddress {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(addr);
  let host: string;
  let port = '22';
  if (bracketed) {
    host = bracketed[1] ?? '';
    port = bracketed[2] ?? '22';
  } else if (addr.split(':').length === 2) {
    [host = '', port = '22'] = addr.split(':');
  } else {
    host = addr;
  }
  const portNumber = Number(port);
  const hostOk = host.includes(':') ? IPV6.test(host) : HOST_NAME.test(host);
  if (!hostOk || !/^\d{1,5}$/.test(port) || portNumber < 1 || portNumber > 65_535) {
    throw new UpstreamError(
      'unsafe_name_in_response',
      `the auth service sent ${what} ${JSON.stringify(addr.slice(0, 80))}, expected host, host:port or [ipv6]:port`,
    );
  }
  return { host, port: portNumber };
}

/** The name a node is reached by through ssh_config: `<hostname>.<cluster>`. */
export function nodeAlias(hostname: string, cluster: string): string {
  return hostname.endsWith(`.${cluster}`) ? hostname : `${hostname}.${cluster}`;
}

/** The type and base64 fields of an OpenSSH key line, without its comment. */
export function sshKeyFields(line: string, what: string): { type: string; blob: string } {
  const [type = '', blob = ''] = line.trim().split(/\s+/);
  if (!/^[a-z0-9@.-]+$/.test(type) || !/^[A-Za-z0-9+/]+={0,2}$/.test(blob)) {
    throw new UpstreamError(
      'invalid_ssh_key_in_response',
      `the auth service sent ${what} that is not an OpenSSH key line (type and base64)`,
    );
  }
  return { type, blob };
}
