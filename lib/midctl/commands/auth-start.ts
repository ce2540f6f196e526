import { LOCAL_AUTH_PORT } from '../../api/local-auth-port.js';
import { type LocalAuthServer, startLocalAuthServer } from '../../auth/local/local-auth-server.js';
import { previousStart } from '../../auth/local/previous-start.js';
import { explainListenError, parseListenAddress } from '../../core/listen-address.js';
import type { Logger } from '../../core/logger.js';
import type { SignatureSuiteName } from '../../pki/signature-suite.js';

const LISTEN_EXAMPLE = `127.0.0.1:${LOCAL_AUTH_PORT}`;

export interface AuthStartOptions {
  readonly dataDir: string;
  /** @default the last start's (see `previous-start.ts`), else 127.0.0.1:3025 */
  readonly listen?: string;
  readonly clusterName?: string;
  readonly suite?: SignatureSuiteName;
  /** @default the last start's, else none */
  readonly publicAddrs?: readonly string[];
  /** TESTS ONLY: a loopback STS emulator the iam join method connects to instead of AWS. */
  readonly stsEndpointOverrideForTests?: string;
}

function startServer(
  options: AuthStartOptions,
  host: string,
  port: number,
  publicAddrs: readonly string[],
  logger: Logger,
): Promise<LocalAuthServer> {
  return startLocalAuthServer({
    dataDir: options.dataDir,
    host,
    port,
    publicAddrs,
    logger,
    ...(options.clusterName === undefined ? {} : { clusterName: options.clusterName }),
    ...(options.suite === undefined ? {} : { suite: options.suite }),
    ...(options.stsEndpointOverrideForTests === undefined
      ? {}
      : { iamJoin: { stsEndpointOverrideForTests: options.stsEndpointOverrideForTests } }),
  });
}

/** `midctl auth start`: runs the auth service until stopped. */
export async function authStart(options: AuthStartOptions, logger: Logger): Promise<LocalAuthServer> {
  const previous =
    options.listen === undefined || options.publicAddrs === undefined
      ? previousStart(options.dataDir)
      : undefined;
  const listen = options.listen ?? previous?.listen ?? LISTEN_EXAMPLE;
  const publicAddrs = options.publicAddrs ?? previous?.publicAddrs ?? [];
  if (options.listen === undefined && previous !== undefined) {
    logger.info('listening where the last start did (--listen changes it)', { listen });
  }
  if (options.publicAddrs === undefined && publicAddrs.length > 0) {
    logger.info('serving the names of the last start (--public-addr changes them)', {
      public_addrs: publicAddrs.join(','),
    });
  }
  const { host, port } = parseListenAddress(listen, '--listen', LISTEN_EXAMPLE);
  const server = await startServer(options, host, port, publicAddrs, logger).catch((error: unknown) => {
    throw explainListenError(error, '--listen', listen);
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
