import type { Clock } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { Random } from '../core/random.js';
import type { AuditLog } from './audit-log.js';
import type { BotInstanceStore } from './bot-instance-store.js';
import type { CertificateAuthorities } from './certificate-authorities.js';
import type { CertificateIssuer } from './certificate-issuer.js';
import type { ResourceStore } from './resource-store.js';
import type { StorageBackend } from './storage/storage-backend.js';

/** Everything the auth service's use cases need, built once by a composition root. */
export interface AuthContext {
  readonly clusterName: string;
  readonly version: string;
  readonly cas: CertificateAuthorities;
  readonly issuer: CertificateIssuer;
  readonly storage: StorageBackend;
  readonly resources: ResourceStore;
  readonly instances: BotInstanceStore;
  readonly audit: AuditLog;
  readonly clock: Clock;
  readonly random: Random;
  readonly logger: Logger;
}

/** Facts about the caller that the transport knows, for the audit log. */
export interface RequestMeta {
  readonly requestId: string;
  readonly remoteAddr?: string;
}
