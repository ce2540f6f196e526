import type { Bot } from '../resources/bot.js';
import { type BotLock, readBotLock } from './bot-locks.js';
import type { ResourceOf, ResourceStore, Revisioned, StoredKind } from './resource-store.js';
import { findRoleLock, type RoleLock } from './role-locks.js';
import type { StorageBackend } from './storage/storage-backend.js';

/** The resource reads a use case makes: the store itself, or one request's {@link ReadOnce}. */
export type ResourceReader = Pick<ResourceStore, 'get' | 'list'>;

/** The reads of a join: resources, and the lock of the bot it is for (read alongside the bot). */
export interface JoinReads extends ResourceReader {
  botLock(botName: string): Promise<BotLock | undefined>;
  /** The first lock on one of `bot`'s roles, read alongside the roles. */
  roleLock(bot: Bot): Promise<RoleLock | undefined>;
}

/**
 * The resource reads of one request, each made once however many parts of the request need it: the
 * outputs of a batch share the bot's roles and the node list instead of paying a round trip each.
 * Lives only as long as its request, so a changed role or app still takes effect at the next one.
 */
export class ReadOnce implements JoinReads {
  private readonly reads = new Map<string, Promise<unknown>>();

  constructor(
    private readonly store: ResourceReader,
    private readonly storage: StorageBackend,
  ) {}

  botLock(botName: string): Promise<BotLock | undefined> {
    return this.once(`lock bot/${botName}`, () => readBotLock(this.storage, botName));
  }

  roleLock(bot: Bot): Promise<RoleLock | undefined> {
    return this.once(`lock roles of bot/${bot.metadata.name}`, () => findRoleLock(this.storage, bot));
  }

  get<K extends StoredKind>(kind: K, name: string): Promise<Revisioned<ResourceOf<K>> | undefined> {
    return this.once(`get ${kind}/${name}`, () => this.store.get(kind, name));
  }

  list<K extends StoredKind>(kind: K): Promise<ResourceOf<K>[]> {
    return this.once(`list ${kind}`, () => this.store.list(kind));
  }

  private once<T>(key: string, read: () => Promise<T>): Promise<T> {
    let pending = this.reads.get(key) as Promise<T> | undefined;
    if (pending === undefined) {
      pending = read();
      this.reads.set(key, pending);
    }
    return pending;
  }
}
