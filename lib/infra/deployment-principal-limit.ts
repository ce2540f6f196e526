import { RoleSet } from '../auth/role-set.js';
import { OPENSSH_MAX_PRINCIPALS, planSshPrincipals } from '../auth/ssh-user-principals.js';
import { formatPath } from '../core/schema.js';
import type { Node } from '../resources/node.js';
import type { Resource } from '../resources/resource.js';
import type { DeploymentBot } from './deployment.js';
import { definedRoles, outputRoleSet, readsTraits, whoseRoles } from './deployment-output-roles.js';

/** Where a path of the file was written (`line 12`), when known. */
type Locate = (path: readonly PropertyKey[]) => string | undefined;

/**
 * Identity outputs whose SSH certificate, with the roles and nodes the file defines, would carry more
 * principals than OpenSSH accepts: each node marked `scoped_principals` adds `<login>@<node>` for every
 * login the roles allow there, so a file that adds such nodes can push a bot over the limit without
 * touching its roles. The service would refuse every run (`too_many_principals`), and only the bot's
 * logs would say so. Counted with the service's own {@link planSshPrincipals}, and only when the file
 * defines every role the output uses and their logins are not trait templates; the cluster's own nodes
 * can only add principals.
 */
export function outputsOverPrincipalLimit(
  bots: readonly DeploymentBot[],
  resources: readonly Resource[],
  locate: Locate,
): string[] {
  const roles = definedRoles(resources);
  const nodes = resources.filter((resource): resource is Node => resource.kind === 'node');
  const warnings: string[] = [];
  bots.forEach((bot, botIndex) => {
    bot.outputs.forEach((output, index) => {
      if (output.type !== 'identity') return;
      const roleSet = outputRoleSet(bot, output, roles);
      if (roleSet === undefined || readsTraits(roleSet, (conditions) => conditions.logins)) return;
      const plan = planSshPrincipals(roleSet, nodes);
      if (plan.all.length <= OPENSSH_MAX_PRINCIPALS) return;
      const scopedNodes = nodes.filter(
        (node) =>
          node.spec.scoped_principals === true && roleSet.loginsOnNode(node.metadata.labels ?? {}).length > 0,
      );
      const perRole = roleSet.roles
        .map((role) => `role "${role.metadata.name}" allows ${new RoleSet([role]).logins().length}`)
        .join(', ');
      const path = ['bots', botIndex, 'outputs', index, 'type'];
      const line = locate(path);
      warnings.push(
        `${formatPath(path)}${line === undefined ? '' : ` (${line})`}: ${whoseRoles(bot, output)} roles whose SSH certificate would carry ${plan.all.length} principals with the nodes this file defines, more than the ${OPENSSH_MAX_PRINCIPALS} OpenSSH accepts: ${plan.logins.length} logins (${perRole}) and ${plan.scoped.length} node-scoped principals (<login>@<node> for ${scopedNodes.length === 1 ? 'the node' : `the ${scopedNodes.length} nodes`} marked scoped_principals that they allow logins on). Every run of output "${output.name}" would be refused (too_many_principals); ${fixFor(roleSet)}`,
      );
    });
  });
  return warnings;
}

/** Fewer roles per output (another identity output may hold the rest), or fewer logins or scoped nodes. */
function fixFor(roleSet: RoleSet): string {
  const narrow = "narrow the roles' logins, or their node_labels so that fewer scoped nodes count";
  return roleSet.roles.length > 1
    ? `split the roles ${roleSet.names.join(', ')} between identity outputs (roles: [...] on each), or ${narrow}`
    : narrow;
}
