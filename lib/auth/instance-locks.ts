import { ConflictError } from '../core/errors.js';
import type { AuthContext } from './auth-context.js';
import { type InstanceLock, toBotInstanceResource } from './bot-instance-store.js';
import {
  alreadyLockedMessage,
  DEFAULT_LOCK_MESSAGE,
  describeLock,
  type LockRequest,
  lockExpiry,
  operatorLockEvent,
} from './operator-lock.js';

/**
 * `midctl lock` and `midctl unlock` of one bot instance (Teleport's lock on a `bot_instance_id` target).
 *
 * A locked instance is refused every call from then on: renewals, output certificates and heartbeats,
 * and an iam bot's next join from the same role session (which continues the same instance), all with
 * `instance_locked_by_operator` and the operator's message; midbot keeps retrying and carries on once
 * the lock is lifted (by `unlock`, or at the expiry `--ttl` / `--expires` gave it), while its identity
 * lasts. Certificates it already holds stay valid until they expire. Unlike `midctl rm bot_instance/…`, the record stays (its history is what an investigation
 * reads) and an iam bot cannot simply join again as a new instance from the same role session.
 *
 * Only an operator's lock is lifted: one the service set itself (a copy of a renewable identity was
 * used) means the identity is no longer the bot's alone, so that instance is only ever removed.
 */
export class InstanceLocks {
  constructor(private readonly context: AuthContext) {}

  async lock(
    botName: string,
    instanceId: string,
    request: LockRequest,
    actor: string,
  ): Promise<Record<string, unknown>> {
    const now = this.context.clock.now();
    const expires = lockExpiry(request, now);
    const found = await this.context.instances.require(botName, instanceId);
    const at = new Date(now).toISOString();
    const lock = {
      at,
      reason: request.message ?? DEFAULT_LOCK_MESSAGE,
      by: actor,
      ...(expires === undefined ? {} : { expires }),
    };
    let replaced: InstanceLock | undefined;
    const record = await this.context.instances.updateFrom(found, (current) => {
      // The service's own lock stays as it is: its reason is what the operator needs to read, and an
      // operator's lock in its place would offer an unlock that must not exist.
      if (current.locked !== undefined && current.locked.by === undefined) {
        throw lockedByService(current.locked, botName, instanceId, 'it stays locked as it is');
      }
      if (current.locked !== undefined && request.replace !== true) {
        throw new ConflictError(
          'instance_already_locked',
          alreadyLockedMessage(`bot instance ${botName}/${instanceId}`, current.locked),
        );
      }
      replaced = current.locked;
      return { ...current, locked: lock };
    });
    await this.context.audit.record(
      operatorLockEvent(actor, { bot: botName, instance: instanceId }, lock, replaced),
    );
    return toBotInstanceResource(record);
  }

  async unlock(botName: string, instanceId: string, actor: string): Promise<Record<string, unknown>> {
    const found = await this.context.instances.require(botName, instanceId);
    let lifted: InstanceLock | undefined;
    const record = await this.context.instances.updateFrom(found, (current) => {
      const lock = current.locked;
      if (lock === undefined) {
        throw new ConflictError('instance_not_locked', `bot instance ${botName}/${instanceId} is not locked`);
      }
      if (lock.by === undefined) throw lockedByService(lock, botName, instanceId, 'it cannot be unlocked');
      lifted = lock;
      const { locked: _lifted, ...unlocked } = current;
      return unlocked;
    });
    await this.context.audit.record({
      type: 'bot.unlock',
      outcome: 'success',
      actor,
      bot: botName,
      instance: instanceId,
      ...(lifted === undefined ? {} : { message: `lifted ${describeLock(lifted)}` }),
    });
    return toBotInstanceResource(record);
  }
}

/** The refusal of an operator's lock or unlock of an instance the service locked itself. */
function lockedByService(
  lock: InstanceLock,
  botName: string,
  instanceId: string,
  outcome: string,
): ConflictError {
  return new ConflictError(
    'instance_locked_by_service',
    `bot instance ${botName}/${instanceId} was locked by the auth service at ${lock.at} (${lock.reason}): a copy of its identity was used, and ${outcome}. Remove it (\`midctl rm bot_instance/${botName}/${instanceId}\`) once you are done with it, and have the bot join again`,
  );
}
