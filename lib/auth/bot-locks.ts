import type { AuthContext } from './auth-context.js';
import { type NamedLock, NamedLockStore } from './named-lock-store.js';
import { liftText, operatorLockEvent } from './operator-lock.js';
import { OperatorNamedLocks } from './operator-named-locks.js';
import type { StorageBackend } from './storage/storage-backend.js';

/**
 * An operator's lock on a whole bot: Teleport's lock on the bot's user (`tctl lock --user=bot-NAME`).
 * Kept apart from the bot resource, so that `midctl create -f bot.yaml` does not lift it.
 */
export interface BotLock extends NamedLock {
  readonly bot: string;
}

function lockStore(storage: StorageBackend): NamedLockStore<BotLock> {
  return new NamedLockStore<BotLock>(storage, 'bot_locks/', (name) => `bot "${name}"`, {
    alreadyLocked: 'bot_already_locked',
    notLocked: 'bot_not_locked',
    changed: 'bot_lock_changed',
  });
}

/**
 * The lock on `botName` that holds now, if any. One key read, made alongside the bot's own read so
 * that it joins the same batch (no extra round trip). A lock past its expiry is absent: it is stored
 * with that expiry, which every backend treats as gone.
 */
export function readBotLock(storage: StorageBackend, botName: string): Promise<BotLock | undefined> {
  return lockStore(storage).read(botName);
}

/** The refusal code of every call and join of a locked bot: midbot waits for it (retries). */
export const BOT_LOCKED = 'bot_locked';

/** The refusal text for a locked bot: who locked it, when, why, and how and when it is lifted. */
export function botLockedMessage(lock: BotLock): string {
  return `bot "${lock.bot}" was locked by an operator at ${lock.at}: ${lock.reason}. ${liftText(lock.expires, `midctl unlock bot/${lock.bot}`)}`;
}

/**
 * `midctl lock bot/NAME` and `midctl unlock bot/NAME`. While a bot is locked, every call of each of its
 * instances that starts from then on (renewals, output certificates, heartbeats) and every join for it
 * is refused with `bot_locked` (a join token is not spent); midbot keeps retrying and carries on once
 * the lock is lifted or has expired. Certificates already issued stay valid until they expire.
 * Removing the bot removes its lock.
 */
export class BotLocks extends OperatorNamedLocks<BotLock> {
  constructor(context: AuthContext) {
    super(context, {
      resourceKind: 'bot',
      store: lockStore,
      lockOn: (bot, lock) => ({ bot, ...lock }),
      lockedEvent: (actor, bot, lock, replaced) => operatorLockEvent(actor, { bot }, lock, replaced),
      liftedEvent: (actor, bot, message) => ({ type: 'bot.unlock', outcome: 'success', actor, bot, message }),
    });
  }
}
