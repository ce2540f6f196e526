import { tokenFingerprint } from './audit-log.js';
import type { AuthContext } from './auth-context.js';
import type { StoredItem } from './storage/storage-backend.js';

/** Consumed tokens leave a tombstone (by fingerprint) so that a reuse gets a precise answer. */
const TOMBSTONE_TTL_MS = 7 * 24 * 3_600_000;

/** The tombstone names the token's bot, so that a reuse is audited as that bot's and told its name. */
export async function markConsumed(
  context: AuthContext,
  tokenName: string,
  bot: string,
): Promise<StoredItem> {
  return await context.storage.put({
    key: `consumed_tokens/${tokenFingerprint(tokenName)}`,
    value: JSON.stringify({ consumed_at: new Date(context.clock.now()).toISOString(), bot }),
    expiresAt: context.clock.now() + TOMBSTONE_TTL_MS,
  });
}

/**
 * Takes back the tombstone of a token that was not spent after all, unless another join has written its
 * own since (then that one's is kept: its revision differs).
 */
export async function unmarkConsumed(context: AuthContext, tombstone: StoredItem): Promise<void> {
  await context.storage.delete(tombstone.key, tombstone.revision);
}

/** The tombstone of a spent token (`bot`: absent from those written before it was kept). */
export async function consumedToken(
  context: AuthContext,
  tokenName: string,
): Promise<{ bot?: string } | undefined> {
  const item = await context.storage.get(`consumed_tokens/${tokenFingerprint(tokenName)}`);
  if (item === undefined) return undefined;
  const { bot } = JSON.parse(item.value) as { bot?: unknown };
  return typeof bot === 'string' ? { bot } : {};
}
