import type { Bot } from '../resources/bot.js';
import { awaitAll } from './await-all.js';
import { type BotLock, readBotLock } from './bot-locks.js';
import type { ResourceOf, ResourceStore, Revisioned, StoredKind } from './resource-store.js';
import { type RoleLock, readRoleLock } from './role-locks.js';
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

  async roleLock(bot: Bot): Promise<RoleLock | undefined> {
    const locks = await awaitAll(bot.spec.roles.map((role) => this.lockOf(role)));
    return locks.find((lock) => lock !== undefined);
  }

  /**
   * Starts reading roles and the locks on them before anything asks for them: those a bot's certificate
   * names, while the authenticator reads the bot record that says which roles it holds now (see
   * {@link BotAuthenticator.authenticate}). Nothing is decided on them until then: a role the bot has
   * gained since is read when asked for, and one it has lost is read for nothing.
   */
  readRolesAhead(roleNames: readonly string[]): void {
    for (const name of roleNames) {
      void this.get('role', name);
      void this.lockOf(name);
    }
  }

  /**
   * Resolves once every read this request started is done, whatever each found: a request answers only
   * then, as with {@link awaitAll} (a Lambda may be frozen as soon as it answers), even when it was
   * refused before it used what it read ahead.
   */
  async settled(): Promise<void> {
    await Promise.allSettled(this.reads.values());
  }

  private lockOf(role: string): Promise<RoleLock | undefined> {
    return this.once(`lock role/${role}`, () => readRoleLock(this.storage, role));
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
      // A read made ahead may never be awaited (the request was refused first); whoever awaits it
      // still gets its rejection.
      pending.catch(() => undefined);
      this.reads.set(key, pending);
    }
    return pending;
  }
}
