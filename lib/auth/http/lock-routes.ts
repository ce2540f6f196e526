import { lockRequestSchema } from '../../api/admin.js';
import { ROUTES } from '../../api/routes.js';
import type { AuthService } from '../auth-service.js';
import { listLocks } from '../lock-listing.js';
import type { ApiRequest } from './api-request.js';
import type { ApiRoute } from './api-router.js';
import { parseJsonBody } from './json-body.js';

/** A handler of an operator route: the caller is already authenticated as `actor`. */
export type AdminRouteHandler = (request: ApiRequest, params: string[], actor: string) => Promise<unknown>;

/**
 * `GET /v1/admin/locks` lists the locks in force. `POST` locks and `DELETE` lifts: `/v1/admin/bots/NAME/lock` a whole bot,
 * `/v1/admin/bot-instances/BOT/ID/lock` one instance, and `/v1/admin/roles/NAME/lock` a role.
 * `admin` authenticates the operator.
 */
export function lockRoutes(
  service: AuthService,
  segment: string,
  admin: (handler: AdminRouteHandler) => ApiRoute['handler'],
): ApiRoute[] {
  const pattern = (path: string) => new RegExp(`^${path}$`.replace(/\//g, '\\/'));
  const instanceLock = pattern(`${ROUTES.adminBotInstances}/${segment}/${segment}/lock`);
  // A whole bot and a role: one lock per name, each under its collection's path.
  const namedLocks = [
    { path: pattern(`${ROUTES.adminBots}/${segment}/lock`), locks: service.botLocks },
    { path: pattern(`${ROUTES.adminRoles}/${segment}/lock`), locks: service.roleLocks },
  ];
  return [
    {
      method: 'GET',
      pattern: pattern(ROUTES.adminLocks),
      handler: admin(async () => ({ locks: await listLocks(service.context) })),
    },
    ...namedLocks.flatMap(({ path, locks }): ApiRoute[] => [
      {
        method: 'POST',
        pattern: path,
        handler: admin(async (request, [name], actor) => ({
          lock: await locks.lock(name as string, parseJsonBody(request.body, lockRequestSchema), actor),
        })),
      },
      {
        method: 'DELETE',
        pattern: path,
        handler: admin(async (_r, [name], actor) => ({ lifted: await locks.unlock(name as string, actor) })),
      },
    ]),
    {
      method: 'POST',
      pattern: instanceLock,
      handler: admin(async (request, [bot, id], actor) => {
        const body = parseJsonBody(request.body, lockRequestSchema);
        return { instance: await service.locks.lock(bot as string, id as string, body, actor) };
      }),
    },
    {
      method: 'DELETE',
      pattern: instanceLock,
      handler: admin(async (_r, [bot, id], actor) => ({
        instance: await service.locks.unlock(bot as string, id as string, actor),
      })),
    },
  ];
}
