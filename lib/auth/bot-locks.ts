import type { AuthContext } from './auth-context.js';
import { type NamedLock, NamedLockStore } from './named-lock-store.js';
import {
  DEFAULT_LOCK_MESSAGE,
  describeLock,
  type LockRequest,
  liftText,
  lockExpiry,
  operatorLockEvent,
} from './operator-lock.js';
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
export class BotLocks {
  private readonly store: NamedLockStore<BotLock>;

  constructor(private readonly context: AuthContext) {
    this.store = lockStore(context.storage);
  }

  /** Locks `botName`; a lock in force is only replaced when `request.replace` says so. */
  async lock(botName: string, request: LockRequest, actor: string): Promise<BotLock> {
    const now = this.context.clock.now();
    const expires = lockExpiry(request, now);
    await this.context.resources.require('bot', botName);
    const lock: BotLock = {
      bot: botName,
      at: new Date(now).toISOString(),
      reason: request.message ?? DEFAULT_LOCK_MESSAGE,
      by: actor,
      ...(expires === undefined ? {} : { expires }),
    };
    const replaced = await this.store.put(botName, lock, request.replace === true);
    // `bots rm` deletes the bot, then its lock: a lock written meanwhile would outlive the bot and hold
    // a bot made again under its name, so it goes too.
    if ((await this.context.resources.get('bot', botName)) === undefined) {
      await this.context.storage.delete(this.store.key(botName));
      await this.context.resources.require('bot', botName);
    }
    await this.context.audit.record(operatorLockEvent(actor, { bot: botName }, lock, replaced));
    return lock;
  }

  async unlock(botName: string, actor: string): Promise<BotLock> {
    const lifted = await this.store.take(botName);
    if (lifted === undefined) {
      await this.context.resources.require('bot', botName);
      throw this.store.notLocked(botName);
    }
    await this.context.audit.record({
      type: 'bot.unlock',
      outcome: 'success',
      actor,
      bot: botName,
      message: `lifted ${describeLock(lifted)}`,
    });
    return lifted;
  }

  /** The lock on `botName` that holds now, if any. */
  find(botName: string): Promise<BotLock | undefined> {
    return this.store.read(botName);
  }

  /** Every bot lock that holds now: for `midctl bots ls`. */
  list(): Promise<BotLock[]> {
    return this.store.list();
  }

  /** Drops the lock of a bot being removed (a bot made again under its name starts unlocked), audited. */
  async forget(botName: string, actor: string): Promise<void> {
    const dropped = await this.store.drop(botName);
    if (dropped === undefined) return;
    await this.context.audit.record({
      type: 'bot.unlock',
      outcome: 'success',
      actor,
      bot: botName,
      message: `removed with the bot: ${describeLock(dropped)}`,
    });
  }
}
