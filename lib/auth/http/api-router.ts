import type * as z from 'zod';
import {
  addBotRequestSchema,
  addTokenRequestSchema,
  MAX_EVENTS_PER_CALL,
  putResourcesRequestSchema,
  updateBotRequestSchema,
} from '../../api/admin.js';
import { renewRequestSchema } from '../../api/bot-identity.js';
import { heartbeatRequestSchema } from '../../api/heartbeat.js';
import { joinRequestSchema } from '../../api/join.js';
import {
  outputCertificatesBatchRequestSchema,
  outputCertificatesRequestSchema,
} from '../../api/output-certificates.js';
import type { PingResponse } from '../../api/ping.js';
import { ADMIN_PREFIX, ROUTES } from '../../api/routes.js';
import { InvalidRequestError, MidError, NotFoundError } from '../../core/errors.js';
import { type AuditEvent, auditedRequest, refusal } from '../audit-log.js';
import type { RequestMeta } from '../auth-context.js';
import type { AuthService } from '../auth-service.js';
import type { AuthenticatedBot } from '../bot-authenticator.js';
import { describeClusterCas } from '../cluster-cas.js';
import { renewalReadsAhead } from '../identity-renewal.js';
import { outputReadsAhead } from '../output-issuance.js';
import type { ReadOnce } from '../request-reads.js';
import type { AdminAuthenticator, ApiRequest, ApiResponse } from './api-request.js';
import { parseJsonBody } from './json-body.js';
import { type AdminRouteHandler, lockRoutes } from './lock-routes.js';
import { PublicRouteLimits } from './public-route-limits.js';

type Handler = (request: ApiRequest, params: string[], meta: RequestMeta) => Promise<unknown>;

interface Route {
  readonly method: string;
  readonly pattern: RegExp;
  readonly handler: Handler;
  /**
   * Counted against `maxConcurrentJoins`, and against `maxChallengesPerSecond`: public join-related
   * routes that store something for whoever asks (the IAM challenge).
   */
  readonly limitedLikeJoins?: boolean;
}

const SEGMENT = '([A-Za-z0-9._-]{1,253})';

export interface ApiRouterOptions {
  readonly admin: AdminAuthenticator;
  /** Joins in flight at once; more are refused with 429 so that a flood cannot exhaust the service. */
  readonly maxConcurrentJoins?: number;
  /**
   * Challenges handed out per second (bursts of twice as many); more are refused with 429. Each is
   * stored until it expires, so without a rate a single client could fill the storage. A fleet asks
   * for one per join: a thousand bots on a 20-minute schedule need about one a second.
   */
  readonly maxChallengesPerSecond?: number;
  /** Extra routes contributed by optional join methods (the IAM challenge). */
  readonly extraRoutes?: readonly Route[];
}

function json(status: number, value: unknown): ApiResponse {
  return {
    status,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: value === undefined ? '{}' : JSON.stringify(value),
  };
}

/**
 * The HTTP API of the auth service, independent of transport: the local HTTPS server and the Lambda
 * adapter both hand it an `ApiRequest`. Handlers are thin: parse the body by schema, authenticate,
 * call one use case. Only `MidError`s reach the caller; anything else is a generic 500 with a request id.
 */
export class ApiRouter {
  private readonly routes: Route[];
  private readonly limits: PublicRouteLimits;

  constructor(
    private readonly service: AuthService,
    private readonly options: ApiRouterOptions,
  ) {
    this.limits = new PublicRouteLimits(service.context, {
      ...(options.maxConcurrentJoins === undefined ? {} : { maxConcurrentJoins: options.maxConcurrentJoins }),
      ...(options.maxChallengesPerSecond === undefined
        ? {}
        : { maxChallengesPerSecond: options.maxChallengesPerSecond }),
    });
    const admin = (handler: AdminRouteHandler): Handler => {
      return (request, params) => handler(request, params, this.options.admin.authenticate(request));
    };
    const authenticate = this.service.authenticator.authenticate.bind(this.service.authenticator);
    const bot = <T>(handler: (caller: AuthenticatedBot, request: ApiRequest) => Promise<T>): Handler => {
      return async (request, _params, meta) => {
        const caller = await authenticate(request, meta);
        return handler(caller, request);
      };
    };
    /**
     * A bot route whose body says what it will read: the body is parsed as soon as the request is known
     * to be signed with a bot's key, inside the authentication, so that those reads start alongside
     * the authentication's own (one round trip for both). A body that does not parse is refused, and
     * audited naming the caller, once the caller is known, as any refusal.
     */
    const botWithBody = <S extends z.ZodType, T>(
      schema: S,
      event: AuditEvent['type'],
      readsAhead: (reads: ReadOnce, certificateRoles: readonly string[], body: z.output<S>) => void,
      handler: (caller: AuthenticatedBot, body: z.output<S>, meta: RequestMeta) => Promise<T>,
    ): Handler => {
      return async (request, _params, meta) => {
        let body: z.output<S> | undefined;
        const caller = await authenticate(request, meta, (reads, certificateRoles) => {
          try {
            body = parseJsonBody(request.body, schema);
          } catch {
            return; // Refused below, once the caller is known.
          }
          readsAhead(reads, certificateRoles, body);
        });
        try {
          const parsed =
            body ?? (await this.auditedBody(request, schema, { type: event, ...who(caller) }, meta));
          return await handler(caller, parsed, meta);
        } finally {
          // What was read ahead and not used is back before the answer, as every storage call is.
          await caller.reads.settled();
        }
      };
    };
    const exact = (path: string) => new RegExp(`^${path.replace(/\//g, '\\/')}$`);
    this.routes = [
      { method: 'GET', pattern: exact(ROUTES.ping), handler: async () => this.ping() },
      {
        method: 'POST',
        pattern: exact(ROUTES.join),
        handler: (request, _p, meta) =>
          this.limits.limitJoins(meta, async () =>
            this.service.join.join(
              // The token may be a secret; the signed headers carry the session token and signature.
              await this.auditedBody(request, joinRequestSchema, { type: 'bot.join' }, meta, [
                'token',
                'headers',
              ]),
              meta,
            ),
          ),
      },
      {
        method: 'POST',
        pattern: exact(ROUTES.botRenew),
        handler: botWithBody(renewRequestSchema, 'bot.renew', renewalReadsAhead, (caller, body, meta) =>
          this.service.renew(caller, body, meta),
        ),
      },
      {
        method: 'POST',
        pattern: exact(ROUTES.botCertificates),
        handler: botWithBody(
          outputCertificatesRequestSchema,
          'cert.issue',
          (reads, roles, body) => outputReadsAhead(reads, roles, [body]),
          (caller, body, meta) => this.service.outputs.issue(caller, body, meta),
        ),
      },
      {
        method: 'POST',
        pattern: exact(ROUTES.botCertificatesBatch),
        handler: botWithBody(
          outputCertificatesBatchRequestSchema,
          'cert.issue',
          (reads, roles, body) => outputReadsAhead(reads, roles, body.outputs),
          async (caller, body, meta) => ({
            outputs: await this.service.outputs.issueAll(caller, body.outputs, meta),
          }),
        ),
      },
      {
        method: 'POST',
        pattern: exact(ROUTES.botHeartbeat),
        handler: bot(async (caller, request) => {
          await this.service.heartbeat(caller, parseJsonBody(request.body, heartbeatRequestSchema));
          return {};
        }),
      },
      {
        method: 'GET',
        pattern: exact(ROUTES.adminStatus),
        handler: admin(() => this.service.admin.status()),
      },
      {
        method: 'GET',
        pattern: exact(ROUTES.adminCas),
        handler: admin(async () => this.service.admin.cas()),
      },
      {
        method: 'PUT',
        pattern: exact(ROUTES.adminResources),
        handler: admin(async (request, _p, actor) => {
          const body = parseJsonBody(request.body, putResourcesRequestSchema);
          return { results: await this.service.admin.putResources(body.resources, body.force, actor) };
        }),
      },
      {
        method: 'GET',
        pattern: new RegExp(
          `^${ROUTES.adminResources}/${SEGMENT}(?:/${SEGMENT})?(?:/${SEGMENT})?$`.replace(/\//g, '\\/'),
        ),
        handler: admin(async (_r, [kind, name, sub]) => ({
          resources: await this.service.admin.getResources(kind as string, name, sub),
        })),
      },
      {
        method: 'DELETE',
        pattern: new RegExp(
          `^${ROUTES.adminResources}/${SEGMENT}/${SEGMENT}(?:/${SEGMENT})?$`.replace(/\//g, '\\/'),
        ),
        handler: admin(async (_r, [kind, name, sub], actor) => {
          await this.service.admin.deleteResource(kind as string, name as string, sub, actor);
          return {};
        }),
      },
      {
        method: 'POST',
        pattern: exact(ROUTES.adminBots),
        handler: admin((request, _p, actor) =>
          this.service.admin.addBot(parseJsonBody(request.body, addBotRequestSchema), actor),
        ),
      },
      {
        method: 'PATCH',
        pattern: new RegExp(`^${ROUTES.adminBots}/${SEGMENT}$`.replace(/\//g, '\\/')),
        handler: admin(async (request, [name], actor) => ({
          bot: await this.service.admin.updateBot(
            name as string,
            parseJsonBody(request.body, updateBotRequestSchema),
            actor,
          ),
        })),
      },
      {
        method: 'POST',
        pattern: exact(ROUTES.adminTokens),
        handler: admin(async (request, _p, actor) => {
          const body = parseJsonBody(request.body, addTokenRequestSchema);
          return { token: await this.service.admin.addToken(body.bot_name, body.ttl_seconds, actor) };
        }),
      },
      ...lockRoutes(this.service, SEGMENT, admin),
      {
        method: 'GET',
        pattern: exact(ROUTES.adminEvents),
        handler: admin(async (request) => {
          const search = await this.service.admin.searchEvents(eventQuery(request.query));
          return {
            events: search.events,
            // A filtered search that stopped before the oldest event says how far back it went.
            ...(search.complete
              ? {}
              : { incomplete_search: { searched: search.searched, back_to: search.searchedBackTo ?? null } }),
          };
        }),
      },
      ...(options.extraRoutes ?? []).map(
        (route): Route =>
          route.limitedLikeJoins === true
            ? {
                ...route,
                // In flight first: a call refused for concurrency spends none of the rate.
                handler: (request, params, meta) =>
                  this.limits.limitJoins(meta, () =>
                    this.limits.limitChallenges(meta, () => route.handler(request, params, meta)),
                  ),
              }
            : route,
      ),
    ];
  }

  private ping(): PingResponse {
    const { context } = this.service;
    return {
      cluster_name: context.clusterName,
      server_version: context.version,
      signature_suite: context.cas.suite,
      ca_pin: context.cas.caPin,
      ca: describeClusterCas(context.cas),
    };
  }

  /**
   * The body of a join or an issuance. One that is refused never reaches the use case, which audits
   * its own refusals, so it is audited here: every join and issuance attempt leaves a record
   * (SECURITY rule 10). The message names the field; `redact` keeps the token out of it.
   */
  private async auditedBody<S extends z.ZodType>(
    request: ApiRequest,
    schema: S,
    event: Pick<AuditEvent, 'type' | 'bot' | 'instance'>,
    meta: RequestMeta,
    redact: readonly string[] = [],
  ): Promise<z.output<S>> {
    try {
      return parseJsonBody(request.body, schema, redact);
    } catch (error) {
      await this.service.context.audit.record({ ...event, ...refusal(error), ...auditedRequest(meta) });
      throw error;
    }
  }

  /** For transports that refuse a body for its size before routing (the local HTTPS server's 413). */
  auditOversizedBody(path: string, meta: RequestMeta): Promise<void> {
    return this.limits.auditOversizedBody(path, meta);
  }

  async handle(request: ApiRequest): Promise<ApiResponse> {
    const meta: RequestMeta = {
      requestId: request.requestId,
      ...(request.remoteAddr === undefined ? {} : { remoteAddr: request.remoteAddr }),
    };
    try {
      const candidates = this.routes.filter((route) => route.pattern.test(request.path));
      if (candidates.length === 0) {
        throw new NotFoundError(
          'no_such_route',
          `no route ${request.path}; this service speaks the /v1/ API`,
        );
      }
      const route = candidates.find((candidate) => candidate.method === request.method);
      if (route === undefined) {
        return json(405, {
          error: {
            code: 'method_not_allowed',
            message: `${request.method} is not allowed on ${request.path}`,
            request_id: request.requestId,
          },
        });
      }
      const params = (route.pattern.exec(request.path) ?? [])
        .slice(1)
        .filter((value): value is string => value !== undefined);
      const result = await route.handler(request, params, meta);
      return json(200, result);
    } catch (error) {
      return this.errorResponse(error, request);
    }
  }

  private errorResponse(error: unknown, request: ApiRequest): ApiResponse {
    if (error instanceof MidError) {
      const status =
        error.code === 'too_many_joins' || error.code === 'too_many_challenges' ? 429 : error.httpStatus;
      if (status >= 500)
        this.service.context.logger.error('request failed', {
          request_id: request.requestId,
          code: error.code,
          error: error.message,
        });
      return json(status, {
        error: { code: error.code, message: error.message, request_id: request.requestId },
      });
    }
    this.service.context.logger.error('unexpected error', {
      request_id: request.requestId,
      path: request.path,
      error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
    });
    return json(500, {
      error: {
        code: 'internal_error',
        message: `internal error; quote request id ${request.requestId} to the operator`,
        request_id: request.requestId,
      },
    });
  }
}

function who(caller: AuthenticatedBot): Pick<AuditEvent, 'bot' | 'instance'> {
  return { bot: caller.bot.metadata.name, instance: caller.instance.instance_id };
}

function eventQuery(query: URLSearchParams): { limit?: number; type?: string; bot?: string } {
  const limitText = query.get('limit');
  const limit = limitText === null ? undefined : Number(limitText);
  if (limit !== undefined && !(Number.isInteger(limit) && limit > 0 && limit <= MAX_EVENTS_PER_CALL)) {
    throw new InvalidRequestError(
      'invalid_query',
      `limit: got "${limitText}", expected a whole number from 1 to ${MAX_EVENTS_PER_CALL}`,
    );
  }
  const type = query.get('type') ?? undefined;
  const bot = query.get('bot') ?? undefined;
  return {
    ...(limit === undefined ? {} : { limit }),
    ...(type === undefined ? {} : { type }),
    ...(bot === undefined ? {} : { bot }),
  };
}

export const ADMIN_ROUTE_PREFIX = ADMIN_PREFIX;
export type { Route as ApiRoute };
