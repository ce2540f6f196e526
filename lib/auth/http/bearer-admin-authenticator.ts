import { secretsEqual } from '../../api/bot-request-signature.js';
import { AuthenticationError } from '../../core/errors.js';
import type { AdminAuthenticator, ApiRequest } from './api-request.js';

/**
 * The local admin credential: a random secret the service writes to `<data-dir>/admin-token` (0600),
 * sent as `Authorization: Bearer …`. Whoever can read the data directory administers the cluster,
 * the same trust model as running `tctl` on the auth server.
 */
export class BearerAdminAuthenticator implements AdminAuthenticator {
  constructor(private readonly secret: string) {}

  authenticate(request: ApiRequest): string {
    if (request.adminPrincipal !== undefined) return request.adminPrincipal;
    const header = request.headers['authorization'];
    const presented = header?.startsWith('Bearer ') ? header.slice(7) : undefined;
    if (presented === undefined || !secretsEqual(presented, this.secret)) {
      throw new AuthenticationError(
        'admin_auth_failed',
        "admin routes need the admin credential from the data directory; run midctl with --data-dir pointing at the auth server's data directory",
      );
    }
    return 'local-admin';
  }
}

/** For transports that authenticate operators before the router (API Gateway IAM): require their principal. */
export class TransportAdminAuthenticator implements AdminAuthenticator {
  authenticate(request: ApiRequest): string {
    if (request.adminPrincipal === undefined) {
      throw new AuthenticationError(
        'admin_auth_failed',
        'admin routes need AWS IAM (SigV4) credentials allowed to call the admin API',
      );
    }
    return request.adminPrincipal;
  }
}
