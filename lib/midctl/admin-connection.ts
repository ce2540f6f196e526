import { existsSync, readFileSync, type Stats, statSync } from 'node:fs';
import { dirname, isAbsolute } from 'node:path';
import { ApiClient, ApiError } from '../api/api-client.js';
import { normaliseAuthServer } from '../api/auth-server-address.js';
import { localServerFiles } from '../auth/local/local-server-files.js';
import { type LocalServerInfo, localServerInfoSchema } from '../auth/local/local-server-info.js';
import { ConfigError } from '../core/errors.js';
import { parseWithSchema } from '../core/schema.js';
import { awsAdminSigner } from './aws-admin-signer.js';
import type { ServedAddresses } from './bot-facing-address.js';

export interface ConnectionFlags {
  readonly authServer?: string;
  readonly dataDir?: string;
  /** Sign admin calls with AWS SigV4 (the deployed API authorises operators with IAM). */
  readonly awsIam?: boolean;
  readonly awsRegion?: string;
}

function readFileOrExplain(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new ConfigError(
      'data_dir_unreadable',
      code === 'ENOENT'
        ? `${file} does not exist: no auth server has started with this data directory yet; run \`midctl auth start --data-dir <dir>\``
        : `cannot read ${what} at ${file} (${code}); run midctl as the user that owns the data directory`,
    );
  }
}

/**
 * `<data-dir>/auth-server.json`, which the local auth service writes at every start: a file that is not
 * what it writes (edited, truncated by a full disk) is refused naming the file, and a restart of the
 * service rewrites it.
 */
function readServerInfo(file: string, dataDir: string): LocalServerInfo {
  const text = readFileOrExplain(file, 'the server address');
  const fix = `the auth service rewrites this file at every start: restart it with \`midctl auth start --data-dir ${dataDir}\` (after stopping the one running, if any)`;
  if (text.trim() === '') throw new ConfigError('invalid_server_info', `${file} is empty; ${fix}`);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const position = /position (\d+)/.exec((error as Error).message)?.[1];
    throw new ConfigError(
      'invalid_server_info',
      `${file} is not JSON${position === undefined ? '' : ` (syntax error at character ${position})`}; ${fix}`,
      { cause: error },
    );
  }
  return parseWithSchema(localServerInfoSchema, value, {
    error: (code, message) => new ConfigError(code, `${file}: ${message}; ${fix}`),
    code: 'invalid_server_info',
  });
}

/**
 * How the local auth service of `--data-dir` listens and which `--public-addr` it was given, when
 * midctl talks to it locally and it recorded them; undefined otherwise (`--aws-iam`, an older file).
 */
export function servedAddresses(flags: ConnectionFlags): ServedAddresses | undefined {
  if (flags.awsIam || flags.dataDir === undefined) return undefined;
  const file = localServerFiles(flags.dataDir).serverInfo;
  if (!existsSync(file)) return undefined;
  const info = readServerInfo(file, flags.dataDir);
  if (info.listen_host === undefined) return undefined;
  return { listenHost: info.listen_host, publicAddrs: info.public_addrs ?? [] };
}

/**
 * Builds the admin client from `--auth-server`/`--data-dir` (or MID_AUTH_SERVER/MID_DATA_DIR, applied by
 * the entry). Locally the data directory provides the admin credential, the service's CA and, unless
 * given, its address: like running `tctl` on the auth server.
 */
export function connectAdmin(flags: ConnectionFlags): ApiClient {
  if (flags.awsRegion !== undefined && !flags.awsIam) {
    throw new ConfigError(
      'invalid_flag',
      `--aws-region ${flags.awsRegion} only applies with --aws-iam (signing for the auth service deployed on AWS); add --aws-iam, or drop --aws-region`,
    );
  }
  if (flags.awsIam) {
    if (flags.authServer === undefined) {
      throw new ConfigError(
        'missing_auth_server',
        '--aws-iam needs --auth-server https://<api-id>.execute-api.<region>.amazonaws.com (the stack output AuthServer)',
      );
    }
    return new ApiClient({
      baseUrl: normaliseAuthServer(flags.authServer),
      untrustedCertificateAdvice:
        'check that --auth-server is the address of the deployed auth service (the stack output AuthServer)',
      authenticate: awsAdminSigner(flags.awsRegion === undefined ? {} : { region: flags.awsRegion }),
    });
  }
  if (flags.dataDir === undefined) {
    throw new ConfigError(
      'missing_data_dir',
      "midctl needs the auth server's data directory for the admin credential: pass --data-dir DIR or set MID_DATA_DIR",
    );
  }
  refuseDataDirNotAFolder(flags.dataDir);
  const files = localServerFiles(flags.dataDir);
  let url = flags.authServer;
  if (url === undefined) {
    if (!existsSync(files.serverInfo)) throw unknownAuthServer(flags.dataDir, files.serverInfo);
    url = readServerInfo(files.serverInfo, flags.dataDir).url;
  }
  const adminToken = readFileOrExplain(files.adminToken, 'the admin credential').trim();
  const ca = readFileOrExplain(files.hostCa, "the service's CA certificate");
  const whose = `it is not the auth service of the cluster whose CA and admin credential midctl read from --data-dir ${flags.dataDir}`;
  return new ApiClient({
    baseUrl: normaliseAuthServer(url),
    ca,
    // midctl has no CA pin to check again: a service it does not trust is another cluster's.
    untrustedCertificateAdvice:
      flags.authServer === undefined
        ? `${whose}, though ${files.serverInfo} gives this address: another service listens there now; start the cluster's with \`midctl auth start --data-dir ${flags.dataDir}\`, or pass --auth-server`
        : `${whose}; check that --auth-server (or MID_AUTH_SERVER) and --data-dir (or MID_DATA_DIR) name the same cluster`,
    authenticate: () => ({ authorization: `Bearer ${adminToken}` }),
  });
}

/**
 * Locally, midctl sends the admin credential it read from `--data-dir`, so the service's own refusal
 * ("run midctl with --data-dir") misleads. Its certificate was checked against the CA of that
 * directory, so the service is this cluster's: it reads `admin-token` only when it starts, and the file
 * no longer holds what it read then (changed since, or the service runs from a copy of the directory).
 */
export function explainAdminCredentialRefusal(error: unknown, flags: ConnectionFlags): unknown {
  if (!(error instanceof ApiError) || error.code !== 'admin_auth_failed') return error;
  if (flags.awsIam || flags.dataDir === undefined) return error;
  const file = localServerFiles(flags.dataDir).adminToken;
  return new ApiError(
    error.httpStatus,
    error.code,
    `the admin credential in ${file} does not match the running auth service's: the service reads that file only when it starts, so the file changed since, or the service was started from another data directory (a copy of this one); restart the service with \`midctl auth start --data-dir ${flags.dataDir}\` so it reads this file, or pass the --data-dir the running service was started with`,
    error.requestId,
  );
}

/**
 * With `--aws-iam`, a 403 from API Gateway means the signature or the caller's IAM permissions: says
 * which permission the admin routes need, since the gateway's own message ("Forbidden") does not.
 */
export function explainAwsRefusal(error: unknown): unknown {
  if (!(error instanceof ApiError) || error.code !== 'forbidden') return error;
  return new ApiError(
    error.httpStatus,
    error.code,
    `${error.message}; --aws-iam signs with your AWS credentials (environment, profile or SSO): check they are current, and that they allow execute-api:Invoke on the stack output AdminInvokeArn (in CDK: auth.grantAdmin(role))`,
  );
}

/**
 * A --data-dir that is a file (often one of the folder's own, `./auth/admin-token`) would otherwise be
 * told to start an auth service there.
 */
function refuseDataDirNotAFolder(dataDir: string): void {
  let stats: Stats;
  try {
    stats = statSync(dataDir);
  } catch {
    return; // Missing: the advice below (start the service there) fits.
  }
  if (stats.isDirectory()) return;
  throw new ConfigError(
    'invalid_data_dir',
    `--data-dir ${dataDir} is a file, not the auth service's data directory; pass the folder that holds it (${dirname(dataDir)}), the one \`midctl auth start --data-dir\` was given`,
  );
}

/**
 * Why midctl has no address for the service of `dataDir`. A relative data directory that does not
 * exist is most likely another folder's (MID_DATA_DIR=./auth exported elsewhere): starting a service
 * there, as the usual advice says, would make a second cluster with keys of its own.
 */
function unknownAuthServer(dataDir: string, serverInfo: string): ConfigError {
  if (!existsSync(dataDir) && !isAbsolute(dataDir)) {
    return new ConfigError(
      'auth_server_unknown',
      `no auth server address: the data directory ${dataDir} does not exist in ${process.cwd()} (a relative --data-dir or MID_DATA_DIR is read from the current directory); run midctl from the folder the service was started in, or give the data directory's absolute path (to start a new cluster there: \`midctl auth start --data-dir ${dataDir}\`)`,
    );
  }
  return new ConfigError(
    'auth_server_unknown',
    `no auth server address: ${serverInfo} is missing; start it with \`midctl auth start --data-dir ${dataDir}\` or pass --auth-server`,
  );
}
