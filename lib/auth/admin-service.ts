import type {
  AddBotRequest,
  AddBotResponse,
  CasResponse,
  StatusResponse,
  UpdateBotRequest,
} from '../api/admin.js';
import {
  nameSegmentsOf,
  RESOURCE_KIND_LISTS,
  type ResourceKind,
  resourceKindOf,
} from '../api/resource-kinds.js';
import {
  AccessDeniedError,
  ConfigError,
  ConflictError,
  InvalidRequestError,
  NotFoundError,
} from '../core/errors.js';
import { randomHex } from '../core/random.js';
import type { Bot } from '../resources/bot.js';
import { parseResource, type Resource } from '../resources/resource.js';
import { describeResource, findRepeatedResource, hasSecretName } from '../resources/resource-identity.js';
import { refuseOversizedResource } from '../resources/resource-size.js';
import type { Token } from '../resources/token.js';
import { type TokenBotState, tokenLifetimeProblem } from '../resources/token-lifetime.js';
import {
  type AuditEvent,
  type AuditQuery,
  type AuditSearch,
  type RecordedAuditEvent,
  tokenFingerprint,
} from './audit-log.js';
import type { AuthContext } from './auth-context.js';
import { BotLocks } from './bot-locks.js';
import { botLogins, updatedBot } from './bot-update.js';
import { describeClusterCas } from './cluster-cas.js';
import { listBotsWithLocks, listInstancesWithBotLocks } from './lock-listing.js';
import { COLLECTION, type ResourceOf, type StoredKind } from './resource-store.js';
import { RoleLocks } from './role-locks.js';

/** `tctl bots add` tokens live an hour unless asked otherwise. */
export const DEFAULT_TOKEN_TTL_MS = 3_600_000;

export function resolveKind(text: string): ResourceKind {
  const kind = resourceKindOf(text);
  if (kind === undefined) {
    throw new InvalidRequestError(
      'unknown_kind',
      `unknown resource kind "${text}"; use one of ${RESOURCE_KIND_LISTS.join(', ')}`,
    );
  }
  return kind;
}

/**
 * Only a bot instance is named by two segments (`bot_instance/BOT/ID`). A second name on any other kind
 * is refused: ignoring it would act on the first one, so `bot/robot/ID` would remove the whole bot.
 */
function refuseSecondName(kind: ResourceKind, subName: string | undefined): void {
  if (subName === undefined || nameSegmentsOf(kind) === 2) return;
  throw new InvalidRequestError(
    'invalid_reference',
    `a ${kind} is named by one segment (${kind}/NAME), but two were given; only bot instances take two (bot_instance/BOT/ID)`,
  );
}

/** The same kind and name twice in one batch is refused before anything is written. */
function refuseDuplicates(resources: readonly ResourceOf<StoredKind>[]): void {
  const repeated = findRepeatedResource(resources);
  if (repeated === undefined) return;
  const { index, first, resource } = repeated;
  throw new ConfigError(
    'duplicate_resource',
    `resources[${index}]: ${describeResource(resource)} is also resources[${first}]; keep one of them`,
  );
}

/** A resource as the audit log names it: a secret name by its fingerprint, as joins record it. */
function auditedResourceName(resource: ResourceOf<StoredKind>): string {
  return `${resource.kind}/${hasSecretName(resource) ? tokenFingerprint(resource.metadata.name) : resource.metadata.name}`;
}

/** The `logins` of a `bot.create` or `bot.update` audit record: the bot's logins, if it has any. */
function auditedLogins(bot: Bot): Pick<AuditEvent, 'logins'> {
  const logins = botLogins(bot);
  return logins.length === 0 ? {} : { logins };
}

export interface ResourceWriteResult {
  readonly kind: string;
  readonly name: string;
  readonly action: 'created' | 'updated';
}

/** The operator's use cases: resources, bots, tokens, instances, status and the audit trail. */
export class AdminService {
  constructor(private readonly context: AuthContext) {}

  private audit(actor: string, event: Omit<AuditEvent, 'actor'>): Promise<RecordedAuditEvent> {
    return this.context.audit.record({ ...event, actor });
  }

  async status(): Promise<StatusResponse> {
    const counts: Record<string, number> = {};
    for (const kind of Object.keys(COLLECTION) as StoredKind[]) {
      counts[COLLECTION[kind]] = (await this.context.resources.list(kind)).length;
    }
    counts['bot_instances'] = (await this.context.instances.list()).length;
    return {
      cluster_name: this.context.clusterName,
      server_version: this.context.version,
      signature_suite: this.context.cas.suite,
      ca_pin: this.context.cas.caPin,
      counts,
    };
  }

  /** `midctl auth export`: the public half of the cluster's CAs, for servers to trust. */
  cas(): CasResponse {
    return { cluster_name: this.context.clusterName, cas: describeClusterCas(this.context.cas) };
  }

  /** `midctl create -f`: every document is parsed and checked before anything is written. */
  async putResources(
    documents: readonly unknown[],
    force: boolean,
    actor: string,
  ): Promise<ResourceWriteResult[]> {
    const resources = documents.map((document, index) => {
      const resource = parseResource(document, `resources[${index}]`);
      refuseOversizedResource(resource, `resources[${index}]`);
      if (resource.kind === 'bot_instance') {
        throw new ConfigError('read_only_kind', 'bot_instance resources are created by joins, not by hand');
      }
      return resource as ResourceOf<StoredKind>;
    });
    refuseDuplicates(resources);
    // Roles created by the same file count: a deployment applies roles and the bots holding them at once.
    const rolesInBatch = new Set(resources.filter((r) => r.kind === 'role').map((r) => r.metadata.name));
    const botsInBatch = new Set(resources.filter((r) => r.kind === 'bot').map((r) => r.metadata.name));
    for (const [index, resource] of resources.entries()) {
      if (resource.kind === 'bot')
        await this.requireRoles(resource.spec.roles.filter((role) => !rolesInBatch.has(role)));
      if (resource.kind === 'token') await this.checkToken(resource, `resources[${index}]`, botsInBatch);
    }
    if (!force) {
      // Refuse before writing anything, so a file is applied whole or not at all.
      for (const resource of resources) {
        if ((await this.context.resources.get(resource.kind, resource.metadata.name)) !== undefined) {
          throw new ConflictError(
            'already_exists',
            `${describeResource(resource)} already exists; use --force to replace it`,
          );
        }
      }
    }
    const results: ResourceWriteResult[] = [];
    for (const resource of resources) {
      const name = resource.metadata.name;
      let action: ResourceWriteResult['action'] = 'created';
      if (!(await this.context.resources.create(resource))) {
        if (!force) {
          throw new ConflictError(
            'already_exists',
            `${describeResource(resource)} already exists; use --force to replace it`,
          );
        }
        await this.context.resources.put(resource);
        action = 'updated';
      }
      await this.audit(actor, {
        type: `resource.${action === 'created' ? 'create' : 'update'}`,
        outcome: 'success',
        resource: auditedResourceName(resource),
      });
      results.push({ kind: resource.kind, name, action });
    }
    return results;
  }

  /**
   * The lifetime rule of tokens created from a file (see `tokenLifetimeProblem`). A token may name a
   * bot that does not exist yet: as with `tctl`, an operator makes the token first and then
   * `bots add NAME --token TOKEN`; until then its joins are refused, unspent.
   */
  private async checkToken(token: Token, where: string, botsInBatch: ReadonlySet<string>): Promise<void> {
    const problem = tokenLifetimeProblem(token, this.context.clock.now());
    if (problem === undefined) return;
    const botName = token.spec.bot_name;
    const bot: TokenBotState = botsInBatch.has(botName)
      ? 'in_same_file'
      : (await this.context.resources.get('bot', botName)) === undefined
        ? 'absent'
        : 'exists';
    throw new ConfigError(
      problem.code,
      `${where}: ${describeResource(token)}: metadata.expires: ${problem.describe(bot)}`,
    );
  }

  async getResources(kindText: string, name?: string, subName?: string): Promise<Record<string, unknown>[]> {
    const kind = resolveKind(kindText);
    refuseSecondName(kind, subName);
    if (kind === 'bot_instance') {
      const instances = await listInstancesWithBotLocks(this.context, name, subName);
      // No instances of a bot that does not exist says nothing: a mistyped name should be told so.
      if (instances.length === 0 && name !== undefined) await this.context.resources.require('bot', name);
      return instances;
    }
    if (kind === 'bot') return listBotsWithLocks(this.context, name);
    if (name !== undefined) return [(await this.context.resources.require(kind, name)).resource];
    return this.context.resources.list(kind);
  }

  /**
   * `midctl rm KIND/NAME`. A role that bots hold is refused (each of them would fail its next run),
   * unless `evenIfHeld`: a stack being deleted removes everything it made, whoever holds it.
   */
  async deleteResource(
    kindText: string,
    name: string,
    subName: string | undefined,
    actor: string,
    options: { readonly evenIfHeld?: boolean } = {},
  ): Promise<void> {
    const kind = resolveKind(kindText);
    refuseSecondName(kind, subName);
    if (kind === 'bot_instance') {
      if (subName === undefined)
        throw new InvalidRequestError('missing_name', 'remove an instance as bot_instance/BOT/ID');
      await this.context.instances.require(name, subName);
      await this.context.storage.delete(`instances/${name}/${subName}`);
      await this.audit(actor, {
        type: 'resource.delete',
        outcome: 'success',
        resource: `bot_instance/${name}/${subName}`,
        bot: name,
      });
      return;
    }
    // Refused as `get` refuses it: with the likely name (never a token's, the other tokens' secrets).
    const existing = await this.context.resources.require(kind, name);
    if (kind === 'role' && options.evenIfHeld !== true) {
      const holders = (await this.context.resources.list('bot'))
        .filter((bot) => bot.spec.roles.includes(name))
        .map((bot) => bot.metadata.name);
      if (holders.length > 0) {
        throw new ConflictError(
          'role_in_use',
          `role "${name}" is held by bot${holders.length > 1 ? 's' : ''} ${holders.map((b) => `"${b}"`).join(', ')}; take it away first (\`midctl bots update ${holders[0]} --set-roles=…\`) or remove the bot`,
        );
      }
    }
    if (!(await this.context.resources.delete(kind, name))) {
      throw new NotFoundError(`${kind}_not_found`, `${kind} "${name}" does not exist`);
    }
    if (kind === 'bot') {
      // A deleted bot leaves nothing that could still join or authenticate, and nothing that would
      // hold a bot made again under its name (its lock).
      await this.context.instances.deleteAll(name);
      await new BotLocks(this.context).forget(name, actor);
      for (const token of await this.context.resources.list('token')) {
        if (token.spec.bot_name === name) await this.context.resources.delete('token', token.metadata.name);
      }
    }
    // A role made again under a removed role's name starts unlocked.
    if (kind === 'role') await new RoleLocks(this.context).forget(name, actor);
    await this.audit(actor, {
      type: 'resource.delete',
      outcome: 'success',
      resource: auditedResourceName(existing.resource as ResourceOf<StoredKind>),
    });
  }

  private async requireRoles(roles: readonly string[]): Promise<void> {
    const missing: string[] = [];
    for (const role of roles)
      if ((await this.context.resources.get('role', role)) === undefined) missing.push(role);
    if (missing.length > 0) {
      // Teleport's guides start from its preset roles (access, editor, auditor); a cluster here has none.
      const [first] = missing;
      throw new NotFoundError(
        'role_not_found',
        `role${missing.length > 1 ? 's' : ''} ${missing.map((r) => `"${r}"`).join(', ')} do${missing.length > 1 ? '' : 'es'} not exist (a cluster has no preset roles); create ${missing.length > 1 ? 'them' : 'it'} first with \`midctl create -f role.yaml\`, e.g. a role.yaml allowing SSH as root on every node: {kind: role, version: v7, metadata: {name: ${first}}, spec: {allow: {logins: [root], node_labels: {'*': '*'}}}}`,
      );
    }
  }

  /** `midctl bots add`: the bot and, unless an existing token is named, a fresh single-use token. */
  async addBot(request: AddBotRequest, actor: string): Promise<AddBotResponse> {
    await this.requireRoles(request.roles);
    const bot = parseResource({
      kind: 'bot',
      version: 'v1',
      metadata: { name: request.name },
      spec: {
        roles: request.roles,
        ...(request.logins === undefined ? {} : { traits: [{ name: 'logins', values: request.logins }] }),
      },
    }) as Bot;
    let token: Token;
    if (request.token_name !== undefined) {
      const existing = await this.context.resources.require('token', request.token_name);
      if (existing.resource.spec.bot_name !== request.name) {
        throw new AccessDeniedError(
          'token_for_another_bot',
          `token "${request.token_name}" is for bot "${existing.resource.spec.bot_name}", not "${request.name}"; set its bot_name or use another token`,
        );
      }
      token = existing.resource;
    } else {
      token = this.newToken(request.name, request.ttl_seconds);
    }
    if (!(await this.context.resources.create(bot))) {
      throw new ConflictError(
        'already_exists',
        `bot "${request.name}" already exists; add roles with \`midctl bots update ${request.name} --add-roles\``,
      );
    }
    if (request.token_name === undefined) await this.context.resources.create(token);
    await this.audit(actor, {
      type: 'bot.create',
      outcome: 'success',
      bot: request.name,
      roles: request.roles,
      ...auditedLogins(bot),
    });
    return {
      bot,
      token: {
        name: token.metadata.name,
        join_method: token.spec.join_method,
        bot_name: token.spec.bot_name,
        ...(token.metadata.expires === undefined ? {} : { expires: token.metadata.expires }),
      },
      ca_pins: [this.context.cas.caPin],
      cluster_name: this.context.clusterName,
    };
  }

  /** `midctl bots update`: roles and logins added or replaced; the result is checked as any bot is. */
  async updateBot(name: string, request: UpdateBotRequest, actor: string): Promise<Bot> {
    await this.requireRoles(request.set_roles ?? request.add_roles ?? []);
    for (let attempt = 0; attempt < 10; attempt += 1) {
      const current = await this.context.resources.require('bot', name);
      const next = parseResource(updatedBot(current.resource, request)) as Bot;
      if (await this.context.resources.replace(next, current.revision)) {
        await this.audit(actor, {
          type: 'bot.update',
          outcome: 'success',
          bot: name,
          roles: next.spec.roles,
          ...auditedLogins(next),
        });
        return next;
      }
    }
    throw new ConflictError('bot_contended', `bot "${name}" changed while updating it; try again`);
  }

  /** `midctl tokens add --type=bot`: a single-use token for an existing bot. */
  async addToken(botName: string, ttlSeconds: number | undefined, actor: string): Promise<Token> {
    await this.context.resources.require('bot', botName);
    const token = this.newToken(botName, ttlSeconds);
    await this.context.resources.create(token);
    await this.audit(actor, { type: 'token.create', outcome: 'success', bot: botName });
    return token;
  }

  private newToken(botName: string, ttlSeconds: number | undefined): Token {
    const expires = new Date(this.context.clock.now() + (ttlSeconds ?? DEFAULT_TOKEN_TTL_MS / 1000) * 1000);
    return parseResource(
      {
        kind: 'token',
        version: 'v2',
        metadata: { name: randomHex(this.context.random, 16), expires: expires.toISOString() },
        spec: { roles: ['Bot'], join_method: 'token', bot_name: botName },
      },
      'token',
    ) as Token;
  }

  async events(options: AuditQuery): Promise<RecordedAuditEvent[]> {
    return this.context.audit.list(options);
  }

  /** `midctl events ls`: the events, and how far back the search went when it stopped early. */
  async searchEvents(options: AuditQuery): Promise<AuditSearch> {
    return this.context.audit.search(options);
  }
}

export type { Resource };
