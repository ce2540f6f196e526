import { AccessDeniedError } from '../core/errors.js';
import type { Bot } from '../resources/bot.js';
import type { Role } from '../resources/role.js';
import { awaitAll } from './await-all.js';
import type { ResourceReader } from './request-reads.js';
import { RoleSet } from './role-set.js';

/** The bot's traits as the role templates read them (`{{internal.logins}}` → traits.logins). */
export function botTraits(bot: Bot): Record<string, string[]> {
  const traits: Record<string, string[]> = {};
  for (const trait of bot.spec.traits ?? []) traits[trait.name] = [...trait.values];
  return traits;
}

/**
 * Loads the named roles, in parallel (one round trip of latency). A role that was deleted since the bot was
 * created is refused by name. Read on every request that needs them, never cached: a changed role
 * takes effect at once. A request that needs the roles more than once passes this set along.
 */
export async function resolveRoleSet(
  resources: ResourceReader,
  bot: Bot,
  roleNames: readonly string[],
): Promise<RoleSet> {
  const roles = await awaitAll<Role[]>(
    roleNames.map(async (name) => {
      const found = await resources.get('role', name);
      if (found === undefined) {
        throw new AccessDeniedError(
          'role_not_found',
          `bot "${bot.metadata.name}" holds role "${name}", which does not exist; create it or update the bot's roles`,
        );
      }
      return found.resource;
    }),
  );
  return new RoleSet(roles, botTraits(bot), bot.spec.max_session_ttl);
}
