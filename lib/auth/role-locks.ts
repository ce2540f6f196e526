import { AccessDeniedError } from '../core/errors.js';
import type { Bot } from '../resources/bot.js';
import type { AuthContext } from './auth-context.js';
import { awaitAll } from './await-all.js';
import { type NamedLock, NamedLockStore } from './named-lock-store.js';
import {
  DEFAULT_LOCK_MESSAGE,
  describeLock,
  type LockRequest,
  liftText,
  lockExpiry,
  untilText,
} from './operator-lock.js';
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
 * The first lock among `bot`'s roles that holds now, if any: one key read per role, made alongside the
 * roles' own reads so that they join the same batch (no extra round trip).
 */
export async function findRoleLock(storage: StorageBackend, bot: Bot): Promise<RoleLock | undefined> {
  const store = lockStore(storage);
  const locks = await awaitAll(bot.spec.roles.map((role) => store.read(role)));
  return locks.find((lock) => lock !== undefined);
}

/** Refuses a certificate for `bot` while `lock`, on one of its roles, holds. */
export function refuseRoleLock(lock: RoleLock | undefined, bot: Bot): void {
  if (lock !== undefined) {
    throw new AccessDeniedError(ROLE_LOCKED, roleLockedMessage(lock, bot.metadata.name));
  }
}

/** Refuses a certificate for `bot` while one of its roles is locked (see {@link findRoleLock}). */
export async function refuseLockedRoles(storage: StorageBackend, bot: Bot): Promise<void> {
  refuseRoleLock(await findRoleLock(storage, bot), bot);
}

/** `midctl lock role/NAME` and `midctl unlock role/NAME`; removing the role removes its lock. */
export class RoleLocks {
  private readonly store: NamedLockStore<RoleLock>;

  constructor(private readonly context: AuthContext) {
    this.store = lockStore(context.storage);
  }

  /** Locks `roleName`; a lock in force is only replaced when `request.replace` says so. */
  async lock(roleName: string, request: LockRequest, actor: string): Promise<RoleLock> {
    const now = this.context.clock.now();
    const expires = lockExpiry(request, now);
    await this.context.resources.require('role', roleName);
    const lock: RoleLock = {
      role: roleName,
      at: new Date(now).toISOString(),
      reason: request.message ?? DEFAULT_LOCK_MESSAGE,
      by: actor,
      ...(expires === undefined ? {} : { expires }),
    };
    const replaced = await this.store.put(roleName, lock, request.replace === true);
    // A role removed meanwhile takes the lock along, as `rm role/NAME` would have: a role made again
    // under its name starts unlocked.
    if ((await this.context.resources.get('role', roleName)) === undefined) {
      await this.context.storage.delete(this.store.key(roleName));
      await this.context.resources.require('role', roleName);
    }
    await this.context.audit.record({
      type: 'role.lock',
      outcome: 'success',
      code: 'operator_lock',
      actor,
      resource: `role/${roleName}`,
      message: `${lock.reason}${untilText(lock.expires)}${replaced === undefined ? '' : `; replaces ${describeLock(replaced)}`}`,
    });
    return lock;
  }

  async unlock(roleName: string, actor: string): Promise<RoleLock> {
    const lifted = await this.store.take(roleName);
    if (lifted === undefined) {
      await this.context.resources.require('role', roleName);
      throw this.store.notLocked(roleName);
    }
    await this.context.audit.record({
      type: 'role.unlock',
      outcome: 'success',
      actor,
      resource: `role/${roleName}`,
      message: `lifted ${describeLock(lifted)}`,
    });
    return lifted;
  }

  /** Every role lock that holds now: for `midctl locks ls`. */
  list(): Promise<RoleLock[]> {
    return this.store.list();
  }

  /** Drops the lock of a role being removed (a role made again under its name starts unlocked), audited. */
  async forget(roleName: string, actor: string): Promise<void> {
    const dropped = await this.store.drop(roleName);
    if (dropped === undefined) return;
    await this.context.audit.record({
      type: 'role.unlock',
      outcome: 'success',
      actor,
      resource: `role/${roleName}`,
      message: `removed with the role: ${describeLock(dropped)}`,
    });
  }
}
