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
  const botLock = pattern(`${ROUTES.adminBots}/${segment}/lock`);
  const instanceLock = pattern(`${ROUTES.adminBotInstances}/${segment}/${segment}/lock`);
  const roleLock = pattern(`${ROUTES.adminRoles}/${segment}/lock`);
  return [
    {
      method: 'GET',
      pattern: pattern(ROUTES.adminLocks),
      handler: admin(async () => ({ locks: await listLocks(service.context) })),
    },
    {
      method: 'POST',
      pattern: botLock,
      handler: admin(async (request, [name], actor) => ({
        lock: await service.botLocks.lock(
          name as string,
          parseJsonBody(request.body, lockRequestSchema),
          actor,
        ),
      })),
    },
    {
      method: 'DELETE',
      pattern: botLock,
      handler: admin(async (_r, [name], actor) => ({
        lifted: await service.botLocks.unlock(name as string, actor),
      })),
    },
    {
      method: 'POST',
      pattern: roleLock,
      handler: admin(async (request, [name], actor) => ({
        lock: await service.roleLocks.lock(
          name as string,
          parseJsonBody(request.body, lockRequestSchema),
          actor,
        ),
      })),
    },
    {
      method: 'DELETE',
      pattern: roleLock,
      handler: admin(async (_r, [name], actor) => ({
        lifted: await service.roleLocks.unlock(name as string, actor),
      })),
    },
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
