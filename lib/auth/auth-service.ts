import type { BotIdentityResponse, RenewRequest } from '../api/bot-identity.js';
import type { HeartbeatRequest } from '../api/heartbeat.js';
import type { Clock } from '../core/clock.js';
import { ConfigError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Random } from '../core/random.js';
import type { SignatureSuiteName } from '../pki/signature-suite.js';
import { VERSION } from '../version.js';
import { AdminService } from './admin-service.js';
import { AuditLog } from './audit-log.js';
import type { AuthContext, RequestMeta } from './auth-context.js';
import { type AuthenticatedBot, BotAuthenticator } from './bot-authenticator.js';
import { BotInstanceStore } from './bot-instance-store.js';
import { BotLocks } from './bot-locks.js';
import { type CaStore, loadOrCreateCas } from './certificate-authorities.js';
import { CertificateIssuer } from './certificate-issuer.js';
import { recordHeartbeat } from './heartbeats.js';
import { renewIdentity } from './identity-renewal.js';
import { InstanceLocks } from './instance-locks.js';
import { type JoinMethod, JoinService } from './join-service.js';
import { OutputIssuance } from './output-issuance.js';
import { ResourceStore } from './resource-store.js';
import { RoleLocks } from './role-locks.js';
import type { StorageBackend } from './storage/storage-backend.js';
import { tokenJoinMethod } from './token-join-method.js';

/** The cluster name a new cluster gets when none is given. */
export const DEFAULT_CLUSTER_NAME = 'mid.local';

export interface AuthServiceOptions {
  /** Required to match the stored CAs when given; a new cluster gets DEFAULT_CLUSTER_NAME otherwise. */
  readonly clusterName?: string;
  /** Used when the CAs are created; an existing cluster keeps its suite. */
  readonly suite?: SignatureSuiteName;
  readonly storage: StorageBackend;
  readonly caStore: CaStore;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
  /** Extra join methods (iam); `token` is always there. */
  readonly joinMethods?: readonly JoinMethod[];
}

/** The auth service's use cases wired to one context; transports (HTTPS, Lambda) sit in front of it. */
export class AuthService {
  readonly join: JoinService;
  readonly authenticator: BotAuthenticator;
  readonly outputs: OutputIssuance;
  readonly admin: AdminService;
  readonly locks: InstanceLocks;
  readonly botLocks: BotLocks;
  readonly roleLocks: RoleLocks;

  private constructor(
    readonly context: AuthContext,
    joinMethods: readonly JoinMethod[],
  ) {
    this.join = new JoinService(context, [tokenJoinMethod, ...joinMethods]);
    this.authenticator = new BotAuthenticator(context);
    this.outputs = new OutputIssuance(context);
    this.admin = new AdminService(context);
    this.locks = new InstanceLocks(context);
    this.botLocks = new BotLocks(context);
    this.roleLocks = new RoleLocks(context);
  }

  renew(caller: AuthenticatedBot, request: RenewRequest, meta: RequestMeta): Promise<BotIdentityResponse> {
    return renewIdentity(this.context, caller, request, meta);
  }

  heartbeat(caller: AuthenticatedBot, request: HeartbeatRequest): Promise<void> {
    return recordHeartbeat(this.context, caller, request);
  }

  static async create(options: AuthServiceOptions): Promise<AuthService> {
    const cas = await loadOrCreateCas(options.caStore, {
      clusterName: options.clusterName ?? DEFAULT_CLUSTER_NAME,
      suite: options.suite ?? 'balanced',
      clock: options.clock,
      random: options.random,
    });
    if (options.clusterName !== undefined && cas.clusterName !== options.clusterName) {
      throw new ConfigError(
        'cluster_name_mismatch',
        `the CAs in storage belong to cluster "${cas.clusterName}", not "${options.clusterName}"; start with --cluster-name ${cas.clusterName} or use a new data directory`,
      );
    }
    const context: AuthContext = {
      clusterName: cas.clusterName,
      version: VERSION,
      cas,
      issuer: new CertificateIssuer(cas, options.clock, options.random),
      storage: options.storage,
      resources: new ResourceStore(options.storage),
      instances: new BotInstanceStore(options.storage, options.clock),
      audit: new AuditLog(options.storage, options.clock, options.random, options.logger),
      clock: options.clock,
      random: options.random,
      logger: options.logger,
    };
    return new AuthService(context, options.joinMethods ?? []);
  }
}
