import { LOCAL_AUTH_PORT } from '../../api/local-auth-port.js';
import { type LocalAuthServer, startLocalAuthServer } from '../../auth/local/local-auth-server.js';
import { explainListenError, parseListenAddress } from '../../core/listen-address.js';
import type { Logger } from '../../core/logger.js';
import type { SignatureSuiteName } from '../../pki/signature-suite.js';

const LISTEN_EXAMPLE = `127.0.0.1:${LOCAL_AUTH_PORT}`;

export interface AuthStartOptions {
  readonly dataDir: string;
  readonly listen: string;
  readonly clusterName?: string;
  readonly suite?: SignatureSuiteName;
  readonly publicAddrs: readonly string[];
  /** TESTS ONLY: a loopback STS emulator the iam join method connects to instead of AWS. */
  readonly stsEndpointOverrideForTests?: string;
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

/** `midctl auth start`: runs the auth service until stopped. */
export async function authStart(options: AuthStartOptions, logger: Logger): Promise<LocalAuthServer> {
  const { host, port } = parseListenAddress(options.listen, '--listen', LISTEN_EXAMPLE);
  const server = await startServer(options, host, port, logger).catch((error: unknown) => {
    throw explainListenError(error, '--listen', options.listen);
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
