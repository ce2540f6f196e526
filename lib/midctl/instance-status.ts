/** The `status` of a bot instance as the admin API returns it (the fields midctl reads). */
export interface InstanceStatusJson {
  readonly locked?: { readonly by?: string; readonly expires?: string };
  /** The lock on the whole bot (`midctl lock bot/NAME`), which holds its every instance. */
  readonly bot_locked?: { readonly expires?: string };
  readonly renewable?: boolean;
  readonly latest_authentications?: ReadonlyArray<{ readonly expires_at?: string }>;
  readonly latest_heartbeats?: ReadonlyArray<{ readonly recorded_at: string; readonly hostname: string }>;
}

/**
 * `locked` (by the service: a copy of its identity was used; remove it), `locked by operator` (`midctl
 * unlock bot_instance/BOT/ID` lifts it), `bot locked` (the whole bot is: `midctl unlock bot/NAME`), the
 * operator locks with `until TIME` when they lift by themselves; `expired` (its latest identity
 * expired: the bot stopped renewing; a token-joined bot needs a new join token, an iam bot joins again
 * on its next run), or `active`.
 */
export function instanceStatus(status: InstanceStatusJson, now: number): string {
  const until = (lock: { readonly expires?: string }) =>
    lock.expires === undefined ? '' : ` until ${lock.expires}`;
  if (status.locked !== undefined) {
    return status.locked.by === undefined ? 'locked' : `locked by operator${until(status.locked)}`;
  }
  if (status.bot_locked !== undefined) return `bot locked${until(status.bot_locked)}`;
  const expiresAt = status.latest_authentications?.at(-1)?.expires_at;
  return expiresAt !== undefined && Date.parse(expiresAt) <= now ? 'expired' : 'active';
}
