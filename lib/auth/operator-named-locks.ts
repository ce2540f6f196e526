import type { AuditEvent } from './audit-log.js';
import type { AuthContext } from './auth-context.js';
import type { NamedLock, NamedLockStore } from './named-lock-store.js';
import { DEFAULT_LOCK_MESSAGE, describeLock, type LockRequest, lockExpiry } from './operator-lock.js';
import type { StorageBackend } from './storage/storage-backend.js';

/** What sets one kind of lock apart: what it locks, where it keeps its locks, how they are audited. */
export interface NamedLockKind<Lock extends NamedLock> {
  /** The resource kind a lock is on; it must exist when locked. */
  readonly resourceKind: 'bot' | 'role';
  readonly store: (storage: StorageBackend) => NamedLockStore<Lock>;
  /** The lock on `name` from what every lock records. */
  readonly lockOn: (name: string, lock: NamedLock) => Lock;
  /** The audit record of a lock put in place (in the place of `replaced`, with --replace). */
  readonly lockedEvent: (actor: string, name: string, lock: Lock, replaced: Lock | undefined) => AuditEvent;
  /** The audit record of a lock lifted: by `unlock`, or dropped with its target. */
  readonly liftedEvent: (actor: string, name: string, message: string) => AuditEvent;
}

/**
 * `midctl lock KIND/NAME` and `midctl unlock KIND/NAME` of a named thing (a whole bot, a role): a lock
 * of its own, kept apart from the thing so that `midctl create -f` does not lift it, lifting by itself
 * at its expiry or on `unlock`, and gone with the thing.
 */
export class OperatorNamedLocks<Lock extends NamedLock> {
  private readonly store: NamedLockStore<Lock>;

  constructor(
    private readonly context: AuthContext,
    private readonly kind: NamedLockKind<Lock>,
  ) {
    this.store = kind.store(context.storage);
  }

  /** Locks `name`; a lock in force is only replaced when `request.replace` says so. */
  async lock(name: string, request: LockRequest, actor: string): Promise<Lock> {
    const now = this.context.clock.now();
    const expires = lockExpiry(request, now);
    const { resourceKind } = this.kind;
    await this.context.resources.require(resourceKind, name);
    const lock = this.kind.lockOn(name, {
      at: new Date(now).toISOString(),
      reason: request.message ?? DEFAULT_LOCK_MESSAGE,
      by: actor,
      ...(expires === undefined ? {} : { expires }),
    });
    const replaced = await this.store.put(name, lock, request.replace === true);
    // Removing the thing removes its lock: a lock written while it was being removed would outlive it
    // and hold one made again under its name, so it goes too.
    if ((await this.context.resources.get(resourceKind, name)) === undefined) {
      await this.context.storage.delete(this.store.key(name));
      await this.context.resources.require(resourceKind, name);
    }
    await this.context.audit.record(this.kind.lockedEvent(actor, name, lock, replaced));
    return lock;
  }

  /** Lifts the lock on `name` (the one read: one put in its place meanwhile is refused). */
  async unlock(name: string, actor: string): Promise<Lock> {
    const lifted = await this.store.take(name);
    if (lifted === undefined) {
      await this.context.resources.require(this.kind.resourceKind, name);
      throw this.store.notLocked(name);
    }
    await this.context.audit.record(this.kind.liftedEvent(actor, name, `lifted ${describeLock(lifted)}`));
    return lifted;
  }

  /** The lock on `name` that holds now, if any. */
  find(name: string): Promise<Lock | undefined> {
    return this.store.read(name);
  }

  /** Every lock of this kind that holds now. */
  list(): Promise<Lock[]> {
    return this.store.list();
  }

  /** Drops the lock of a thing being removed (one made again under its name starts unlocked), audited. */
  async forget(name: string, actor: string): Promise<void> {
    const dropped = await this.store.drop(name);
    if (dropped === undefined) return;
    await this.context.audit.record(
      this.kind.liftedEvent(
        actor,
        name,
        `removed with the ${this.kind.resourceKind}: ${describeLock(dropped)}`,
      ),
    );
  }
}
