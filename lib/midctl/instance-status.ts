/** The `status` of a bot instance as the admin API returns it (the fields midctl reads). */
export interface InstanceStatusJson {
  readonly locked?: { readonly by?: string };
  readonly renewable?: boolean;
  readonly latest_authentications?: ReadonlyArray<{ readonly expires_at?: string }>;
  readonly latest_heartbeats?: ReadonlyArray<{ readonly recorded_at: string; readonly hostname: string }>;
}

/**
 * `locked` (by the service: a copy of its identity was used; remove it), `locked by operator` (`midctl
 * unlock` lifts it), `expired` (its latest identity expired: the bot stopped renewing; a token-joined bot
 * needs a new join token, an iam bot joins again on its next run), or `active`.
 */
export function instanceStatus(
  status: InstanceStatusJson,
  now: number,
): 'locked' | 'locked by operator' | 'expired' | 'active' {
  if (status.locked !== undefined) return status.locked.by === undefined ? 'locked' : 'locked by operator';
  const expiresAt = status.latest_authentications?.at(-1)?.expires_at;
  return expiresAt !== undefined && Date.parse(expiresAt) <= now ? 'expired' : 'active';
}
