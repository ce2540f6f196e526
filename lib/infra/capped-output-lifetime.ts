import { Annotations, Duration } from 'aws-cdk-lib';
import type { Construct } from 'constructs';

/** The id of the synth warning for an output whose certificates a role caps below `certificateTtl`. */
export const CERTIFICATE_TTL_CAPPED = 'machine-id:certificate-ttl-capped';

/**
 * How long an output's certificates live: `certificateTtl`, or less when one of the roles they carry
 * has a shorter `max_session_ttl` (as far as synth can see: the caps of roles the auth construct's
 * resources define). Warns when a role caps them: the service issues the shorter lifetime without a
 * word but in the bot's logs, so what `certificateTtl` says and what the secret holds would differ.
 * The output's Expiry alarm is sized from what this returns, so that it fires before the certificates
 * really expire, not half an hour after.
 */
export function cappedOutputLifetime(
  scope: Construct,
  where: { readonly output: string; readonly field: string },
  certificateTtl: Duration,
  roles: readonly string[],
  sessionCapOf: (role: string) => Duration | undefined,
): Duration {
  let capping: { role: string; cap: Duration } | undefined;
  for (const role of roles) {
    const cap = sessionCapOf(role);
    if (cap === undefined || cap.toMilliseconds() >= certificateTtl.toMilliseconds()) continue;
    if (capping === undefined || cap.toMilliseconds() < capping.cap.toMilliseconds()) capping = { role, cap };
  }
  if (capping === undefined) return certificateTtl;
  const lifetime = Duration.millis(capping.cap.toMilliseconds());
  Annotations.of(scope).addWarningV2(
    CERTIFICATE_TTL_CAPPED,
    `output "${where.output}": role "${capping.role}" caps its certificates at ${lifetime.toHumanString()} (max_session_ttl), below the ${certificateTtl.toHumanString()} of ${where.field}: they live ${lifetime.toHumanString()}, and its Expiry alarm is sized for that. Set ${where.field} to ${lifetime.toHumanString()} or less to say so, or raise the role's max_session_ttl`,
  );
  return lifetime;
}
