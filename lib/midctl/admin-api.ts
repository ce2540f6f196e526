import {
  type AddBotRequest,
  type AddBotResponse,
  type CasResponse,
  casResponseSchema,
  type LockRequest,
  type StatusResponse,
  type UpdateBotRequest,
} from '../api/admin.js';
import type { ApiClient } from '../api/api-client.js';
import { ROUTES } from '../api/routes.js';
import { UpstreamError } from '../core/errors.js';
import { parseWithSchema } from '../core/schema.js';

export type ResourceJson = Record<string, unknown> & {
  kind: string;
  metadata: { name: string } & Record<string, unknown>;
};

export interface AuditEventJson extends Record<string, unknown> {
  readonly time: string;
  readonly type: string;
  readonly outcome: string;
  readonly code?: string;
  readonly bot?: string;
  readonly instance?: string;
  readonly message?: string;
}

/** A bot's lock as the service sends it (`lib/auth/bot-locks.ts`). */
export interface BotLockJson {
  readonly bot: string;
  readonly at: string;
  readonly reason: string;
  readonly by: string;
  readonly expires?: string;
}

/** A role's lock as the service sends it (`lib/auth/role-locks.ts`). */
export interface RoleLockJson {
  readonly role: string;
  readonly at: string;
  readonly reason: string;
  readonly by: string;
  readonly expires?: string;
}

export interface EventSearchJson {
  readonly events: AuditEventJson[];
  readonly incomplete_search?: { readonly searched: number; readonly back_to: string | null };
}

/** A lock in force as `GET /v1/admin/locks` lists it (`lib/auth/lock-listing.ts`). */
export interface LockJson {
  /** `bot/NAME`, `bot_instance/BOT/ID` or `role/NAME`. */
  readonly target: string;
  readonly at: string;
  readonly reason: string;
  /** Absent for a lock the service set itself. */
  readonly by?: string;
  readonly expires?: string;
}

/** Typed calls to the operator routes of the auth service. */
export class AdminApi {
  constructor(readonly client: ApiClient) {}

  status(): Promise<StatusResponse> {
    return this.client.call({ method: 'GET', path: ROUTES.adminStatus });
  }

  async cas(): Promise<CasResponse> {
    const answer = await this.client.call({ method: 'GET', path: ROUTES.adminCas });
    return parseWithSchema(casResponseSchema, answer, {
      root: 'CAs',
      code: 'bad_response',
      error: (code, message) => new UpstreamError(code, `the auth service sent unexpected CAs: ${message}`),
    });
  }

  async putResources(resources: readonly unknown[], force: boolean) {
    return this.client.call<{ results: Array<{ kind: string; name: string; action: string }> }>({
      method: 'PUT',
      path: ROUTES.adminResources,
      body: { resources, force },
    });
  }

  async getResources(kind: string, ...names: string[]): Promise<ResourceJson[]> {
    const path = [ROUTES.adminResources, kind, ...names.map(encodeURIComponent)].join('/');
    return (await this.client.call<{ resources: ResourceJson[] }>({ method: 'GET', path })).resources;
  }

  async deleteResource(kind: string, ...names: string[]): Promise<void> {
    await this.client.call({
      method: 'DELETE',
      path: [ROUTES.adminResources, kind, ...names.map(encodeURIComponent)].join('/'),
    });
  }

  addBot(request: AddBotRequest): Promise<AddBotResponse> {
    return this.client.call({ method: 'POST', path: ROUTES.adminBots, body: request });
  }

  async updateBot(name: string, request: UpdateBotRequest): Promise<ResourceJson> {
    return (
      await this.client.call<{ bot: ResourceJson }>({
        method: 'PATCH',
        path: `${ROUTES.adminBots}/${encodeURIComponent(name)}`,
        body: request,
      })
    ).bot;
  }

  async addToken(botName: string, ttlSeconds?: number): Promise<ResourceJson> {
    const body = { bot_name: botName, ...(ttlSeconds === undefined ? {} : { ttl_seconds: ttlSeconds }) };
    return (
      await this.client.call<{ token: ResourceJson }>({ method: 'POST', path: ROUTES.adminTokens, body })
    ).token;
  }

  /** Locks a bot instance (`message`: why, shown to the bot); answers the instance as it is now. */
  async lockInstance(botName: string, instanceId: string, request: LockRequest): Promise<ResourceJson> {
    return (
      await this.client.call<{ instance: ResourceJson }>({
        method: 'POST',
        path: instanceLockPath(botName, instanceId),
        body: request,
      })
    ).instance;
  }

  /** Lifts an operator's lock on a bot instance; answers the instance as it is now. */
  async unlockInstance(botName: string, instanceId: string): Promise<ResourceJson> {
    return (
      await this.client.call<{ instance: ResourceJson }>({
        method: 'DELETE',
        path: instanceLockPath(botName, instanceId),
      })
    ).instance;
  }

  /** Every lock in force, on bots, bot instances and roles. */
  async locks(): Promise<LockJson[]> {
    return (await this.client.call<{ locks: LockJson[] }>({ method: 'GET', path: ROUTES.adminLocks })).locks;
  }

  /** Locks a whole bot; answers the lock. */
  lockBot(botName: string, request: LockRequest): Promise<BotLockJson> {
    return this.lockNamed<BotLockJson>(namedLockPath(ROUTES.adminBots, botName), request);
  }

  /** Lifts the lock on a bot; answers the lock lifted. */
  unlockBot(botName: string): Promise<BotLockJson> {
    return this.unlockNamed<BotLockJson>(namedLockPath(ROUTES.adminBots, botName));
  }

  /** Locks a role: every bot holding it is refused certificates; answers the lock. */
  lockRole(roleName: string, request: LockRequest): Promise<RoleLockJson> {
    return this.lockNamed<RoleLockJson>(namedLockPath(ROUTES.adminRoles, roleName), request);
  }

  /** Lifts the lock on a role; answers the lock lifted. */
  unlockRole(roleName: string): Promise<RoleLockJson> {
    return this.unlockNamed<RoleLockJson>(namedLockPath(ROUTES.adminRoles, roleName));
  }

  private async lockNamed<Lock>(path: string, request: LockRequest): Promise<Lock> {
    return (await this.client.call<{ lock: Lock }>({ method: 'POST', path, body: request })).lock;
  }

  private async unlockNamed<Lock>(path: string): Promise<Lock> {
    return (await this.client.call<{ lifted: Lock }>({ method: 'DELETE', path })).lifted;
  }

  async events(query: { limit?: number; type?: string; bot?: string }): Promise<AuditEventJson[]> {
    return (await this.searchEvents(query)).events;
  }

  /** The events, and for a filtered search that stopped before the oldest event, how far back it went. */
  searchEvents(query: { limit?: number; type?: string; bot?: string }): Promise<EventSearchJson> {
    const params = {
      limit: query.limit === undefined ? undefined : String(query.limit),
      type: query.type,
      bot: query.bot,
    };
    return this.client.call<EventSearchJson>({ method: 'GET', path: ROUTES.adminEvents, query: params });
  }
}

/** `/v1/admin/bots/NAME/lock` or `/v1/admin/roles/NAME/lock`. */
function namedLockPath(collection: string, name: string): string {
  return `${collection}/${encodeURIComponent(name)}/lock`;
}

function instanceLockPath(botName: string, instanceId: string): string {
  return `${ROUTES.adminBotInstances}/${encodeURIComponent(botName)}/${encodeURIComponent(instanceId)}/lock`;
}
