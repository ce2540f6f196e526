import { ConflictError } from '../core/errors.js';
import type { AuthContext } from './auth-context.js';
import {
  alreadyLockedMessage,
  DEFAULT_LOCK_MESSAGE,
  describeLock,
  type LockRequest,
  liftText,
  lockExpiry,
  operatorLockEvent,
} from './operator-lock.js';
import type { StorageBackend, StoredItem } from './storage/storage-backend.js';

/**
 * An operator's lock on a whole bot: Teleport's lock on the bot's user (`tctl lock --user=bot-NAME`).
 * Kept apart from the bot resource, so that `midctl create -f bot.yaml` does not lift it.
 */
export interface BotLock {
  readonly bot: string;
  readonly at: string;
  readonly reason: string;
  /** The operator who locked it (their IAM ARN on AWS, `local-admin` locally). */
  readonly by: string;
  /** When it lifts by itself; absent for a lock that lasts until `midctl unlock`. */
  readonly expires?: string;
}

function keyOf(botName: string): string {
  return `bot_locks/${botName}`;
}

function lockOf(item: StoredItem): BotLock {
  return JSON.parse(item.value) as BotLock;
}

/**
 * The lock on `botName` that holds now, if any. One key read, made alongside the bot's own read so
 * that it joins the same batch (no extra round trip). A lock past its expiry is absent: it is stored
 * with that expiry, which every backend treats as gone.
 */
export async function readBotLock(storage: StorageBackend, botName: string): Promise<BotLock | undefined> {
  const item = await storage.get(keyOf(botName));
  return item === undefined ? undefined : lockOf(item);
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
  constructor(private readonly context: AuthContext) {}

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
    const item = {
      key: keyOf(botName),
      value: JSON.stringify(lock),
      ...(expires === undefined ? {} : { expiresAt: Date.parse(expires) }),
    };
    let replaced: BotLock | undefined;
    if (request.replace === true) {
      const current = await this.context.storage.get(item.key);
      replaced = current === undefined ? undefined : lockOf(current);
      await this.context.storage.put(item);
    } else if ((await this.context.storage.create(item)) === undefined) {
      const current = await readBotLock(this.context.storage, botName);
      throw new ConflictError('bot_already_locked', alreadyLockedMessage(`bot "${botName}"`, current));
    }
    // `bots rm` deletes the bot, then its lock: a lock written meanwhile would outlive the bot and hold
    // a bot made again under its name, so it goes too.
    if ((await this.context.resources.get('bot', botName)) === undefined) {
      await this.context.storage.delete(item.key);
      await this.context.resources.require('bot', botName);
    }
    await this.context.audit.record(operatorLockEvent(actor, { bot: botName }, lock, replaced));
    return lock;
  }

  async unlock(botName: string, actor: string): Promise<BotLock> {
    const item = await this.context.storage.get(keyOf(botName));
    if (item === undefined) {
      await this.context.resources.require('bot', botName);
      throw new ConflictError('bot_not_locked', `bot "${botName}" is not locked`);
    }
    if (!(await this.context.storage.delete(item.key, item.revision))) {
      // Someone unlocked it first, or locked it again with --replace: only the lock read is lifted.
      const now = await readBotLock(this.context.storage, botName);
      throw now === undefined
        ? new ConflictError('bot_not_locked', `bot "${botName}" is not locked`)
        : new ConflictError(
            'bot_lock_changed',
            `bot "${botName}" was locked again meanwhile (${describeLock(now)}); run unlock again to lift that lock`,
          );
    }
    const lifted = lockOf(item);
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
    return readBotLock(this.context.storage, botName);
  }

  /** Every bot lock that holds now: for `midctl bots ls`. */
  async list(): Promise<BotLock[]> {
    const items = await this.context.storage.list('bot_locks/');
    return items.map(lockOf);
  }

  /** Drops the lock of a bot being removed (a bot made again under its name starts unlocked), audited. */
  async forget(botName: string, actor: string): Promise<void> {
    const item = await this.context.storage.get(keyOf(botName));
    if (item === undefined || !(await this.context.storage.delete(item.key))) return;
    await this.context.audit.record({
      type: 'bot.unlock',
      outcome: 'success',
      actor,
      bot: botName,
      message: `removed with the bot: ${describeLock(lockOf(item))}`,
    });
  }
}
