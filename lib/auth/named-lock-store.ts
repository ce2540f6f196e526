import { ConflictError } from '../core/errors.js';
import { alreadyLockedMessage, describeLock } from './operator-lock.js';
import type { StorageBackend, StoredItem } from './storage/storage-backend.js';

/** What every operator's lock on a named thing (a bot, a role) records. */
export interface NamedLock {
  readonly at: string;
  readonly reason: string;
  /** The operator who locked it (their IAM ARN on AWS, `local-admin` locally). */
  readonly by: string;
  /** When it lifts by itself; absent for a lock that lasts until `midctl unlock`. */
  readonly expires?: string;
}

/** The refusal codes of one kind of lock (`bot_already_locked`, `bot_not_locked`, `bot_lock_changed`). */
export interface NamedLockCodes {
  readonly alreadyLocked: string;
  readonly notLocked: string;
  readonly changed: string;
}

/**
 * Operators' locks on named things, one item each under `prefix` (`bot_locks/NAME`), kept apart from
 * the thing itself so that `midctl create -f` of it does not lift its lock. A lock is stored with its
 * expiry, which every backend treats as gone once past: a read never sees a lapsed lock.
 */
export class NamedLockStore<Lock extends NamedLock> {
  constructor(
    private readonly storage: StorageBackend,
    private readonly prefix: string,
    /** How refusals name a target: `bot "robot"`. */
    private readonly describeTarget: (name: string) => string,
    private readonly codes: NamedLockCodes,
  ) {}

  key(name: string): string {
    return `${this.prefix}${name}`;
  }

  /** The lock on `name` that holds now, if any: one key read, which joins the request's batch. */
  async read(name: string): Promise<Lock | undefined> {
    const item = await this.storage.get(this.key(name));
    return item === undefined ? undefined : lockOf<Lock>(item);
  }

  /** Every lock of this kind that holds now. */
  async list(): Promise<Lock[]> {
    return (await this.storage.list(this.prefix)).map((item) => lockOf<Lock>(item));
  }

  /**
   * Stores `lock` on `name`. A lock in force is only replaced when `replace` says so (then it is
   * returned): replacing a colleague's lock unasked, with a shorter one say, would lift it unnoticed.
   */
  async put(name: string, lock: Lock, replace: boolean): Promise<Lock | undefined> {
    const item = {
      key: this.key(name),
      value: JSON.stringify(lock),
      ...(lock.expires === undefined ? {} : { expiresAt: Date.parse(lock.expires) }),
    };
    if (replace) {
      const current = await this.storage.get(item.key);
      await this.storage.put(item);
      return current === undefined ? undefined : lockOf<Lock>(current);
    }
    if ((await this.storage.create(item)) === undefined) {
      throw new ConflictError(
        this.codes.alreadyLocked,
        alreadyLockedMessage(this.describeTarget(name), await this.read(name)),
      );
    }
    return undefined;
  }

  /**
   * Lifts the lock on `name` that `unlock` read, and only that one: one put in its place meanwhile
   * (`--replace`) is refused by name. Undefined when nothing is locked.
   */
  async take(name: string): Promise<Lock | undefined> {
    const item = await this.storage.get(this.key(name));
    if (item === undefined) return undefined;
    if (!(await this.storage.delete(item.key, item.revision))) {
      const now = await this.read(name);
      throw now === undefined
        ? new ConflictError(this.codes.notLocked, `${this.describeTarget(name)} is not locked`)
        : new ConflictError(
            this.codes.changed,
            `${this.describeTarget(name)} was locked again meanwhile (${describeLock(now)}); run unlock again to lift that lock`,
          );
    }
    return lockOf<Lock>(item);
  }

  /** Removes the lock on `name` whatever it is (its target is being removed); the lock removed, if any. */
  async drop(name: string): Promise<Lock | undefined> {
    const item = await this.storage.get(this.key(name));
    if (item === undefined || !(await this.storage.delete(item.key))) return undefined;
    return lockOf<Lock>(item);
  }

  /** The refusal of an unlock of `name`, which holds no lock. */
  notLocked(name: string): ConflictError {
    return new ConflictError(this.codes.notLocked, `${this.describeTarget(name)} is not locked`);
  }
}

function lockOf<Lock>(item: StoredItem): Lock {
  return JSON.parse(item.value) as Lock;
}
