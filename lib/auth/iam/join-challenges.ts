import type { JoinChallengeResponse } from '../../api/join.js';
import type { Clock } from '../../core/clock.js';
import { ConfigError, StorageError } from '../../core/errors.js';
import type { Random } from '../../core/random.js';
import type { StorageBackend } from '../storage/storage-backend.js';
import { IamJoinError } from './iam-join-error.js';

/** How long a challenge may be used: long enough to sign and send, short enough to be worthless later. */
export const DEFAULT_CHALLENGE_TTL_MS = 2 * 60_000;
/** SECURITY rule 3: never more than five minutes. */
export const MAX_CHALLENGE_TTL_MS = 5 * 60_000;
/** SECURITY rule 3: at least 32 random bytes. */
export const CHALLENGE_BYTES = 32;

/** 32 bytes in base64url without padding. */
const CHALLENGE_FORMAT = /^[A-Za-z0-9_-]{43}$/;
const PREFIX = 'iam_challenges/';
/**
 * Challenges stay in storage this long past their expiry (spent ones marked as such), so that a late or
 * repeated use gets "expired" or "replayed" instead of a vague "unknown".
 */
const AFTERLIFE_MS = 10 * 60_000;

/** What issuing and consuming challenges needs: the service's storage, clock and randomness. */
export interface ChallengeContext {
  readonly storage: StorageBackend;
  readonly clock: Clock;
  readonly random: Random;
}

interface StoredChallenge {
  readonly expires_at: number;
  /** Set when a join spent it (epoch ms). */
  readonly used_at?: number;
}

/** Checks a configured challenge lifetime against SECURITY rule 3. */
export function checkChallengeTtl(ttlMs: number): number {
  if (!Number.isInteger(ttlMs) || ttlMs < 1_000 || ttlMs > MAX_CHALLENGE_TTL_MS) {
    throw new ConfigError(
      'invalid_challenge_ttl',
      `the IAM challenge lifetime must be from 1 s to ${MAX_CHALLENGE_TTL_MS / 1000} s, got ${ttlMs} ms`,
    );
  }
  return ttlMs;
}

/**
 * `POST /v1/join/challenge`: a fresh single-use challenge, stored with create-if-absent so that even a
 * (practically impossible) collision can never hand one challenge to two callers.
 */
export async function issueJoinChallenge(
  context: ChallengeContext,
  ttlMs: number = DEFAULT_CHALLENGE_TTL_MS,
): Promise<JoinChallengeResponse> {
  checkChallengeTtl(ttlMs);
  const expiresAt = context.clock.now() + ttlMs;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const challenge = context.random.bytes(CHALLENGE_BYTES).toString('base64url');
    const value: StoredChallenge = { expires_at: expiresAt };
    const created = await context.storage.create({
      key: `${PREFIX}${challenge}`,
      value: JSON.stringify(value),
      expiresAt: expiresAt + AFTERLIFE_MS,
    });
    if (created !== undefined) return { challenge, expires_at: new Date(expiresAt).toISOString() };
  }
  throw new StorageError(
    'challenge_collision',
    'could not store a fresh challenge; the random source is broken',
  );
}

/** A challenge as {@link findJoinChallenge} read it: known to this service, not spent yet. */
export interface FoundChallenge {
  readonly challenge: string;
  readonly key: string;
  readonly revision: string;
  readonly expiresAt: number;
}

const FRESH = 'get a new one from POST /v1/join/challenge and sign again';

/**
 * Spends a challenge: one compare-and-swap at the revision read that marks it used, so of any number of
 * concurrent joins carrying it exactly one gets past this point (SECURITY rule 3). Called before STS is
 * asked, so a replayed signed request never reaches STS.
 */
export async function consumeJoinChallenge(context: ChallengeContext, challenge: string): Promise<void> {
  await spendJoinChallenge(context, await findJoinChallenge(context, challenge));
}

/**
 * The first half of {@link consumeJoinChallenge}: reads the challenge, changing nothing, and refuses one
 * that is malformed, unknown or already spent. A join reads it alongside the bot.
 */
export async function findJoinChallenge(
  context: ChallengeContext,
  challenge: string,
): Promise<FoundChallenge> {
  if (!CHALLENGE_FORMAT.test(challenge)) {
    throw new IamJoinError(
      'challenge_unknown',
      `the signed challenge is not one this service issues; ${FRESH}`,
    );
  }
  const item = await context.storage.get(`${PREFIX}${challenge}`);
  if (item === undefined) {
    throw new IamJoinError('challenge_unknown', `the signed challenge is unknown to this service; ${FRESH}`);
  }
  const stored = JSON.parse(item.value) as StoredChallenge;
  if (stored.used_at !== undefined) {
    throw new IamJoinError('challenge_replayed', `the signed challenge was already used; ${FRESH}`);
  }
  return { challenge, key: item.key, revision: item.revision, expiresAt: stored.expires_at };
}

/**
 * The second half of {@link consumeJoinChallenge}: spends the challenge at the revision it was read at,
 * or refuses it when another join spent it first; then refuses it if it had expired.
 */
export async function spendJoinChallenge(context: ChallengeContext, found: FoundChallenge): Promise<void> {
  // Marked, not deleted: one write spends it, and a replay still finds it and is told "replayed".
  const spent: StoredChallenge = { expires_at: found.expiresAt, used_at: context.clock.now() };
  const swapped = await context.storage.compareAndSwap(
    { key: found.key, value: JSON.stringify(spent), expiresAt: found.expiresAt + AFTERLIFE_MS },
    found.revision,
  );
  if (swapped === undefined) {
    throw new IamJoinError(
      'challenge_replayed',
      `the signed challenge was used by another join at the same moment; ${FRESH}`,
    );
  }
  if (found.expiresAt <= context.clock.now()) {
    throw new IamJoinError(
      'challenge_expired',
      `the signed challenge expired at ${new Date(found.expiresAt).toISOString()}; ${FRESH}`,
    );
  }
}
