import { AccessDeniedError } from '../core/errors.js';
import type { Bot } from '../resources/bot.js';
import type { AuthContext } from './auth-context.js';
import { type NamedLock, NamedLockStore } from './named-lock-store.js';
import { liftText, lockEventMessage } from './operator-lock.js';
import { OperatorNamedLocks } from './operator-named-locks.js';
import type { StorageBackend } from './storage/storage-backend.js';

/**
 * An operator's lock on a role: Teleport's `tctl lock --role=NAME`. Every bot holding the role is
 * refused every certificate from then on (joins, renewals, output certificates), whichever of its roles
 * an output asks for; certificates already issued stay valid until they expire.
 */
export interface RoleLock extends NamedLock {
  readonly role: string;
}

function lockStore(storage: StorageBackend): NamedLockStore<RoleLock> {
  return new NamedLockStore<RoleLock>(storage, 'role_locks/', (name) => `role "${name}"`, {
    alreadyLocked: 'role_already_locked',
    notLocked: 'role_not_locked',
    changed: 'role_lock_changed',
  });
}

/** The refusal code of every certificate asked for by a bot holding a locked role: midbot waits (retries). */
export const ROLE_LOCKED = 'role_locked';

/** The refusal text: which role, who locked it when and why, and how and when it is lifted. */
export function roleLockedMessage(lock: RoleLock, botName: string): string {
  return `bot "${botName}" holds role "${lock.role}", which an operator locked at ${lock.at}: ${lock.reason}. No certificate is issued to a bot holding a locked role. ${liftText(lock.expires, `midctl unlock role/${lock.role}`)}`;
}

/**
 * The lock on `role` that holds now, if any: one key read, made alongside the role's own read so that
 * both join the same batch (no extra round trip). A request reads these through its `ReadOnce`.
 */
export function readRoleLock(storage: StorageBackend, role: string): Promise<RoleLock | undefined> {
  return lockStore(storage).read(role);
}

/** Refuses a certificate for `bot` while `lock`, on one of its roles, holds. */
export function refuseRoleLock(lock: RoleLock | undefined, bot: Bot): void {
  if (lock !== undefined) {
    throw new AccessDeniedError(ROLE_LOCKED, roleLockedMessage(lock, bot.metadata.name));
  }
}

/** `midctl lock role/NAME` and `midctl unlock role/NAME`; removing the role removes its lock. */
export class RoleLocks extends OperatorNamedLocks<RoleLock> {
  constructor(context: AuthContext) {
    super(context, {
      resourceKind: 'role',
      store: lockStore,
      lockOn: (role, lock) => ({ role, ...lock }),
      lockedEvent: (actor, role, lock, replaced) => ({
        type: 'role.lock',
        outcome: 'success',
        code: 'operator_lock',
        actor,
        resource: `role/${role}`,
        message: lockEventMessage(lock, replaced),
      }),
      liftedEvent: (actor, role, message) => ({
        type: 'role.unlock',
        outcome: 'success',
        actor,
        resource: `role/${role}`,
        message,
      }),
    });
  }
}
