import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { LOCAL_AUTH_PORT } from '../../api/local-auth-port.js';
import { type Clock, systemClock } from '../../core/clock.js';
import { ConfigError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { makeFoldersSync } from '../../core/make-folders.js';
import { type Random, secureRandom } from '../../core/random.js';
import { privateKeyToPem } from '../../pki/key-encoding.js';
import { generateKeyPair, type SignatureSuiteName } from '../../pki/signature-suite.js';
import { AuthService } from '../auth-service.js';
import { FileCaStore } from '../file-ca-store.js';
import { ApiRouter } from '../http/api-router.js';
import { BearerAdminAuthenticator } from '../http/bearer-admin-authenticator.js';
import { startHttpsServer } from '../http/https-server.js';
import { type IamJoinOptions, iamJoinMethod } from '../iam/iam-join-method.js';
import { joinChallengeRoute } from '../iam/join-challenge-route.js';
import type { JoinMethod } from '../join-service.js';
import { SqliteBackend } from '../storage/sqlite-backend.js';
import { clusterNameProblem } from './cluster-name.js';
import { lockDataDir } from './data-dir-lock.js';
import { refuseUnsafeDataDir } from './data-dir-ownership.js';
import { localServerFiles } from './local-server-files.js';
import type { LocalServerInfo } from './local-server-info.js';
import { refuseLostCaKeys } from './lost-ca-keys.js';
import { noteFilesBeforeStart } from './start-rollback.js';

export interface LocalAuthServerOptions {
  readonly dataDir: string;
  readonly host?: string;
  readonly port?: number;
  readonly clusterName?: string;
  readonly suite?: SignatureSuiteName;
  /** Extra names for the serving certificate (the address bots use, if not localhost). */
  readonly publicAddrs?: readonly string[];
  readonly logger: Logger;
  readonly clock?: Clock;
  readonly random?: Random;
  readonly joinMethods?: readonly JoinMethod[];
  /**
   * The `iam` join method and its `POST /v1/join/challenge` route; `false` turns both off.
   * @default enabled, reaching the real STS endpoints
   */
  readonly iamJoin?: IamJoinOptions | false;
}

export interface LocalAuthServer {
  readonly url: string;
  readonly port: number;
  readonly clusterName: string;
  readonly caPin: string;
  readonly service: AuthService;
  close(): Promise<void>;
}

/** Serving certificates of the local server are renewed at every start; a year is plenty. */
const SERVER_CERT_TTL_MS = 365 * 24 * 3_600_000;

function readOrCreateAdminToken(file: string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = randomBytes(32).toString('hex');
  writeFileSync(file, `${secret}\n`, { mode: 0o600, flag: 'wx' });
  return secret;
}

/**
 * The name of a new cluster is stored with its CAs for good, so a bad one is refused before anything
 * is written. An existing cluster keeps its name, whatever it is (a mismatch is refused later).
 */
async function refuseBadNewClusterName(dataDir: string, clusterName: string | undefined): Promise<void> {
  const problem = clusterName === undefined ? undefined : clusterNameProblem(clusterName);
  if (problem === undefined || (await new FileCaStore(dataDir).load()) !== undefined) return;
  throw new ConfigError(
    'invalid_cluster_name',
    `--cluster-name: got ${JSON.stringify(clusterName)}, ${problem}`,
  );
}

/** Why a data directory cannot be created, by error code; the fix follows in the message. */
const DATA_DIR_PROBLEMS: Record<string, string> = {
  EEXIST: 'a file is in the way',
  ENOTDIR: 'a file is in the way on its path, where a folder should be',
  EACCES: 'permission denied (create it as a user who may, owned by the user running the service)',
  EPERM: 'permission denied (create it as a user who may, owned by the user running the service)',
  EROFS: 'the filesystem is mounted read-only',
  ENOENT: 'the filesystem there refuses new folders (as /proc and /sys do)',
};

/** Creates the data directory (0700) and any folder above it, or says in words why it cannot. */
function createDataDir(dataDir: string): void {
  try {
    makeFoldersSync(dataDir, 0o700);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    const why = DATA_DIR_PROBLEMS[code] ?? (error as Error).message;
    throw new ConfigError(
      'unusable_data_dir',
      `cannot create the data directory ${dataDir}: ${why}; choose another with --data-dir`,
      { cause: error },
    );
  }
}

/**
 * `midctl auth start`: the auth service on one machine. State in `<data-dir>/state.db` (SQLite), CA
 * keys in `<data-dir>/ca/`, the admin credential in `<data-dir>/admin-token`, all private to the owner.
 * It writes `<data-dir>/auth-server.json` and `host-ca.pem` so that `midctl --data-dir` finds it, and
 * holds `<data-dir>/auth-server.lock` while it runs: one service per data directory. A start that
 * fails removes what it wrote, so a failed first start leaves no cluster behind.
 */
export async function startLocalAuthServer(options: LocalAuthServerOptions): Promise<LocalAuthServer> {
  // Checks that need nothing on disk come first: a refused start writes nothing.
  const iam = options.iamJoin === false ? undefined : iamJoinMethod(options.iamJoin ?? {});
  await refuseBadNewClusterName(options.dataDir, options.clusterName);
  const directoryIsNew = !existsSync(options.dataDir);
  createDataDir(options.dataDir);
  // Before the mode is changed or anything in it is read: a folder someone else prepared is refused.
  refuseUnsafeDataDir(options.dataDir);
  chmodSync(options.dataDir, 0o700);
  const lock = lockDataDir(options.dataDir);
  const rollback = noteFilesBeforeStart(options.dataDir, { directoryIsNew });
  try {
    const server = await serveFromDataDir(options, iam);
    return {
      ...server,
      close: async () => {
        try {
          await server.close();
        } finally {
          lock.release();
        }
      },
    };
  } catch (error) {
    // The lock goes last but always: a rollback that fails (a file it cannot remove) must not leave
    // the directory locked, nor hide why the start failed.
    try {
      rollback.removeCreatedFiles();
    } finally {
      lock.release();
      try {
        rollback.removeCreatedDirectory();
      } catch {
        // What stays is an empty folder, harmless; the start's own error is the one to report.
      }
    }
    throw error;
  }
}

/** Opens the data directory's state and CAs and serves them; the caller holds the directory's lock. */
async function serveFromDataDir(
  options: LocalAuthServerOptions,
  iam: JoinMethod | undefined,
): Promise<LocalAuthServer> {
  const files = localServerFiles(options.dataDir);
  refuseLostCaKeys(options.dataDir);
  const clock = options.clock ?? systemClock;
  const random = options.random ?? secureRandom;
  const storage = SqliteBackend.open(files.database, { clock });
  try {
    const service = await AuthService.create({
      ...(options.clusterName === undefined ? {} : { clusterName: options.clusterName }),
      ...(options.suite === undefined ? {} : { suite: options.suite }),
      storage,
      caStore: new FileCaStore(options.dataDir),
      clock,
      random,
      logger: options.logger,
      joinMethods: [...(iam === undefined ? [] : [iam]), ...(options.joinMethods ?? [])],
    });
    const { cas } = service.context;
    if (options.suite !== undefined && cas.suite !== options.suite) {
      throw new ConfigError(
        'suite_mismatch',
        `--suite ${options.suite}: the CAs in ${options.dataDir} are of the ${cas.suite} suite, and a cluster keeps the suite it was made with; drop --suite, or use a new data directory for a ${options.suite} cluster`,
      );
    }
    const adminToken = readOrCreateAdminToken(files.adminToken);
    const router = new ApiRouter(service, {
      admin: new BearerAdminAuthenticator(adminToken),
      extraRoutes: iam === undefined ? [] : [joinChallengeRoute(service.context)],
    });
    const host = options.host ?? '127.0.0.1';
    const names = ['localhost', host, ...(options.publicAddrs ?? [])];
    const { privateKey, publicKey } = generateKeyPair(cas.suite, 'subject');
    const serving = service.context.issuer.issueServerCertificate({
      publicKey,
      dnsNames: [...new Set(names.filter((name) => isIP(name) === 0 && name !== '0.0.0.0'))],
      ipAddresses: [
        ...new Set(['127.0.0.1', '::1', ...names.filter((name) => isIP(name) !== 0 && name !== '0.0.0.0')]),
      ],
      ttlMs: SERVER_CERT_TTL_MS,
    });
    const server = await startHttpsServer({
      router,
      certificateChainPem: serving.pem + cas.tlsHost.certificatePem,
      privateKeyPem: privateKeyToPem(privateKey),
      host,
      port: options.port ?? LOCAL_AUTH_PORT,
      logger: options.logger,
    });
    try {
      writeFileSync(files.hostCa, cas.tlsHost.certificatePem, { mode: 0o644 });
      const info: LocalServerInfo = {
        url: server.url,
        cluster_name: cas.clusterName,
        ca_pin: cas.caPin,
        pid: process.pid,
        // What `midctl bots add` needs to tell a bot on another host which address to use.
        listen_host: host,
        public_addrs: [...(options.publicAddrs ?? [])],
      };
      writeFileSync(files.serverInfo, `${JSON.stringify(info, null, 2)}\n`, { mode: 0o644 });
    } catch (error) {
      // Not serving a start that failed: the caller rolls back and releases the directory's lock.
      await server.close();
      throw error;
    }
    return {
      url: server.url,
      port: server.port,
      clusterName: cas.clusterName,
      caPin: cas.caPin,
      service,
      close: async () => {
        await server.close();
        await storage.close();
      },
    };
  } catch (error) {
    await storage.close();
    throw error;
  }
}
