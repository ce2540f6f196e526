import { ConflictError } from '../core/errors.js';
import type { AuthContext } from './auth-context.js';
import { DEFAULT_LOCK_MESSAGE, operatorLockEvent } from './instance-locks.js';
import { type LockLifetime, lockExpiry, untilText } from './lock-expiry.js';
import type { StorageBackend } from './storage/storage-backend.js';

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

/**
 * The lock on `botName` that holds now, if any. One key read, made alongside the bot's own read so
 * that it joins the same batch (no extra round trip). A lock past its expiry is absent: it is stored
 * with that expiry, which every backend treats as gone.
 */
export async function readBotLock(storage: StorageBackend, botName: string): Promise<BotLock | undefined> {
  const item = await storage.get(keyOf(botName));
  return item === undefined ? undefined : (JSON.parse(item.value) as BotLock);
}

/** The refusal code of every call and join of a locked bot: midbot waits for it (retries). */
export const BOT_LOCKED = 'bot_locked';

/** The refusal text for a locked bot: who locked it, when, why, until when, and how it is lifted. */
export function botLockedMessage(lock: BotLock): string {
  return `bot "${lock.bot}" was locked by an operator at ${lock.at}${untilText(lock.expires)}: ${lock.reason}. An operator lifts it with \`midctl unlock bot/${lock.bot}\``;
}

/**
 * `midctl lock bot/NAME` and `midctl unlock bot/NAME`. While a bot is locked, every call of each of its
 * instances (renewals, output certificates, heartbeats) and every join for it (a token is not spent)
 * is refused with `bot_locked`; midbot keeps retrying and carries on once the lock is lifted or has
 * expired. Certificates already issued stay valid until they expire. Removing the bot removes its lock.
 */
export class BotLocks {
  constructor(private readonly context: AuthContext) {}

  async lock(
    botName: string,
    request: LockLifetime & { readonly message?: string | undefined },
    actor: string,
  ): Promise<BotLock> {
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
    // Locking a locked bot again replaces the lock: a new reason, a new lifetime.
    await this.context.storage.put({
      key: keyOf(botName),
      value: JSON.stringify(lock),
      ...(expires === undefined ? {} : { expiresAt: Date.parse(expires) }),
    });
    await this.context.audit.record(operatorLockEvent(actor, botName, undefined, lock.reason, expires));
    return lock;
  }

  async unlock(botName: string, actor: string): Promise<BotLock> {
    const item = await this.context.storage.get(keyOf(botName));
    // Of two operators unlocking at once, one lifts the lock and the other is told it is not locked.
    if (item === undefined || !(await this.context.storage.delete(item.key, item.revision))) {
      throw new ConflictError('bot_not_locked', `bot "${botName}" is not locked`);
    }
    const lifted = JSON.parse(item.value) as BotLock;
    await this.context.audit.record({
      type: 'bot.unlock',
      outcome: 'success',
      actor,
      bot: botName,
      message: `lifted the lock of ${lifted.by} from ${lifted.at}${untilText(lifted.expires)}: ${lifted.reason}`,
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
    return items.map((item) => JSON.parse(item.value) as BotLock);
  }

  /** Drops the lock of a bot being removed (a bot made again under its name starts unlocked). */
  async forget(botName: string): Promise<void> {
    await this.context.storage.delete(keyOf(botName));
  }
}
