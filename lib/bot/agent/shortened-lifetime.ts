import { formatDuration } from '../../core/duration.js';
import { MIN_RENEWAL_INTERVAL_MS } from '../config/bot-config.js';

/**
 * How much shorter than asked a certificate may live before midbot says so: the service counts whole
 * seconds, and its clock and ours read the time a moment apart.
 */
export const LIFETIME_SLACK_MS = 60_000;

/**
 * The warning for a certificate the auth service issued for less time than `certificate_ttl` asked,
 * or undefined when it lives (nearly) as long as asked. The service caps every certificate at the
 * shortest `max_session_ttl` of the roles it carries, and says nothing about it; tbot warns too.
 *
 * @param issued the `issued_at` and `expires_at` of the service's answer
 */
export function describeShortenedLifetime(
  requestedMs: number,
  renewalIntervalMs: number,
  issued: { readonly issued_at: string; readonly expires_at: string },
): string | undefined {
  const issuedMs = Date.parse(issued.expires_at) - Date.parse(issued.issued_at);
  if (!(requestedMs - issuedMs > LIFETIME_SLACK_MS)) return undefined;
  // The service ends a certificate on a whole second, up to a second before the cap from issued_at:
  // rounded up, a 30m cap reads as 30m, not 29m59s.
  const lifetime = formatDuration(Math.max(0, Math.ceil(issuedMs / 1000) * 1000));
  // A daemon renews halfway through a lifetime shorter than two intervals, but never sooner than
  // MIN_RENEWAL_INTERVAL_MS: below twice that, the certificate expires before it is replaced.
  const expiresFirst =
    issuedMs < 2 * MIN_RENEWAL_INTERVAL_MS
      ? `; midbot renews at most every ${formatDuration(MIN_RENEWAL_INTERVAL_MS)}, so it expires before it is replaced: raise the roles' max_session_ttl to ${formatDuration(2 * MIN_RENEWAL_INTERVAL_MS)} or more`
      : issuedMs < 2 * renewalIntervalMs
        ? `; a daemon renews it halfway through its lifetime rather than after renewal_interval (${formatDuration(renewalIntervalMs)})`
        : '';
  // certificate_ttl must be longer than renewal_interval, itself at least MIN_RENEWAL_INTERVAL_MS: a
  // lower certificate_ttl is offered only where midbot would take it.
  const lowerTtl =
    issuedMs <= MIN_RENEWAL_INTERVAL_MS
      ? ''
      : issuedMs <= renewalIntervalMs
        ? ` or lower certificate_ttl to ${lifetime} and renewal_interval below it`
        : ` or lower certificate_ttl to ${lifetime}`;
  return `the auth service issued the certificate for ${lifetime}, shorter than the ${formatDuration(requestedMs)} asked for (certificate_ttl, --certificate-ttl): a role's max_session_ttl caps it (or the CA expires sooner); raise the roles' max_session_ttl${lowerTtl}${expiresFirst}`;
}
