import { RoleSet, selectRoles } from '../auth/role-set.js';
import type { Resource } from '../resources/resource.js';
import type { Role } from '../resources/role.js';
import { looksLikeTraitTemplate } from '../resources/traits.js';
import type { DeploymentBot, DeploymentOutput } from './deployment.js';

/** The roles a deployment file defines, by name. */
export function definedRoles(resources: readonly Resource[]): ReadonlyMap<string, Role> {
  return new Map(
    resources.flatMap((resource) => (resource.kind === 'role' ? [[resource.metadata.name, resource]] : [])),
  );
}

/**
 * The roles the service issues `output` with, as it picks them (`selectRoles`: the output's `roles:`,
 * or else all the bot's), when the file defines every one; undefined when one is kept in the cluster,
 * which may allow what the file's roles do not. Without traits, as the deployed bot has none
 * (`botJoinResources`); a check of values a trait template could fill asks {@link readsTraits} first.
 */
export function outputRoleSet(
  bot: DeploymentBot,
  output: DeploymentOutput,
  roles: ReadonlyMap<string, Role>,
): RoleSet | undefined {
  const used = selectRoles(bot.name, bot.roles, output.roles).map((name) => roles.get(name));
  return used.every((role) => role !== undefined) ? new RoleSet(used) : undefined;
}

/** Who the roles are of, as warnings say it: `bot "ci" holds` or `output "grafana" of bot "ci" uses`. */
export function whoseRoles(bot: DeploymentBot, output: DeploymentOutput): string {
  return output.roles === undefined
    ? `bot "${bot.name}" holds`
    : `output "${output.name}" of bot "${bot.name}" uses`;
}

/**
 * Whether a role's allow or deny of a field holds a trait template (`{{internal.logins}}`). The deployed
 * bot has no traits, but `midctl bots update` may give it some: what such a field comes to is the
 * cluster's to say, and a check that cannot be sure says nothing.
 */
export function readsTraits(
  roleSet: RoleSet,
  pick: (conditions: Conditions) => readonly string[] | undefined,
): boolean {
  return roleSet.roles.some((role) =>
    [role.spec.allow, role.spec.deny].some((conditions) =>
      (conditions === undefined ? [] : (pick(conditions) ?? [])).some(looksLikeTraitTemplate),
    ),
  );
}

type Conditions = NonNullable<Role['spec']['allow']>;
