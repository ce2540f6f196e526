import { botsOverPrincipalLimit } from '../auth/principal-limit.js';
import { OPENSSH_MAX_PRINCIPALS } from '../auth/ssh-user-principals.js';
import type { Bot } from '../resources/bot.js';
import type { Node } from '../resources/node.js';
import { parseResource, type Resource } from '../resources/resource.js';
import type { Role } from '../resources/role.js';
import type { AdminApi } from './admin-api.js';

/** Kinds whose change can push a bot's identity certificates over OpenSSH's principal limit. */
export const PRINCIPAL_COUNT_KINDS: ReadonlySet<string> = new Set(['role', 'node', 'bot']);

/**
 * Warnings, one per bot whose identity outputs the cluster as it now stands would refuse for carrying
 * more SSH principals than OpenSSH accepts. Reads the bots, roles and nodes (three calls).
 */
export async function principalLimitWarnings(api: AdminApi): Promise<string[]> {
  const [bots, roles, nodes] = await Promise.all(
    ['bots', 'roles', 'nodes'].map(async (kind) =>
      (await api.getResources(kind)).map((json): Resource => parseResource(json, `the service's ${kind}`)),
    ),
  );
  const breaches = botsOverPrincipalLimit({
    bots: (bots ?? []).filter((resource): resource is Bot => resource.kind === 'bot'),
    roles: (roles ?? []).filter((resource): resource is Role => resource.kind === 'role'),
    nodes: (nodes ?? []).filter((resource): resource is Node => resource.kind === 'node'),
  });
  return breaches.map(
    (breach) =>
      `bot "${breach.bot}" would get ${breach.total} SSH principals in an identity output with all its roles ` +
      `(${breach.logins} logins, ${breach.scoped} for nodes with scoped_principals), more than the ` +
      `${OPENSSH_MAX_PRINCIPALS} OpenSSH accepts: such outputs fail with too_many_principals from their next ` +
      'renewal; give them fewer roles (roles: [...] in the output), narrow the roles’ logins or node_labels, ' +
      'or unset scoped_principals on nodes that do not need it',
  );
}

/** Warnings as midctl prints them after what a command did, one `WARNING:` line each. */
export function warningLines(warnings: readonly string[]): string {
  return warnings.map((warning) => `WARNING: ${warning}\n`).join('');
}
