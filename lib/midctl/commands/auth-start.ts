import { isIP } from 'node:net';
import { type LocalAuthServer, startLocalAuthServer } from '../../auth/local/local-auth-server.js';
import { ConfigError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { SignatureSuiteName } from '../../pki/signature-suite.js';

export interface AuthStartOptions {
  readonly dataDir: string;
  readonly listen: string;
  readonly clusterName?: string;
  readonly suite?: SignatureSuiteName;
  readonly publicAddrs: readonly string[];
  /** TESTS ONLY: a loopback STS emulator the iam join method connects to instead of AWS. */
  readonly stsEndpointOverrideForTests?: string;
}

/** Splits `HOST:PORT` (or `[v6]:PORT`) into its parts with a clear error. */
export function parseListenAddress(value: string): { host: string; port: number } {
  const match = /^(?:\[([0-9a-fA-F:]+)\]|([^:]+)):(\d{1,5})$/.exec(value);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (
    host === undefined ||
    !(port >= 0 && port <= 65_535) ||
    (match?.[1] !== undefined && isIP(host) !== 6)
  ) {
    throw new ConfigError(
      'invalid_flag',
      `--listen: got "${value}", expected HOST:PORT such as 127.0.0.1:3025`,
    );
  }
  return { host, port };
}

function startServer(
  options: AuthStartOptions,
  host: string,
  port: number,
  logger: Logger,
): Promise<LocalAuthServer> {
  return startLocalAuthServer({
    dataDir: options.dataDir,
    host,
    port,
    publicAddrs: options.publicAddrs,
    logger,
    ...(options.clusterName === undefined ? {} : { clusterName: options.clusterName }),
    ...(options.suite === undefined ? {} : { suite: options.suite }),
    ...(options.stsEndpointOverrideForTests === undefined
      ? {}
      : { iamJoin: { stsEndpointOverrideForTests: options.stsEndpointOverrideForTests } }),
  });
}

const LISTEN_FIXES: Record<string, string> = {
  EADDRINUSE: 'another program already listens there; stop it or choose another port',
  EADDRNOTAVAIL: 'that address is not one of this host; choose one of its addresses, e.g. 127.0.0.1:3025',
  EACCES: 'ports below 1024 need privileges; choose a higher port, e.g. 3025',
};

/** Node's "listen EADDRINUSE: …" as a refusal of the flag the address came from. */
function explainListenError(error: unknown, listen: string): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  const fix = code === undefined ? undefined : LISTEN_FIXES[code];
  if (fix === undefined || (error as NodeJS.ErrnoException).syscall !== 'listen') return error;
  return new ConfigError('listen_failed', `--listen: cannot listen on ${listen} (${code}): ${fix}`, {
    cause: error,
  });
}

/** `midctl auth start`: runs the auth service until stopped. */
export async function authStart(options: AuthStartOptions, logger: Logger): Promise<LocalAuthServer> {
  const { host, port } = parseListenAddress(options.listen);
  const server = await startServer(options, host, port, logger).catch((error: unknown) => {
    throw explainListenError(error, options.listen);
  });
  if (options.stsEndpointOverrideForTests !== undefined) {
    logger.warn('iam joins are checked against a TEST STS endpoint, not AWS', {
      sts_endpoint: options.stsEndpointOverrideForTests,
    });
  }
  logger.info('auth service started', {
    url: server.url,
    cluster: server.clusterName,
    ca_pin: server.caPin,
    data_dir: options.dataDir,
  });
  return server;
}
