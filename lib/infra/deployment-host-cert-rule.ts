import { allowsHostCertificates, HOST_CERT_RULE } from '../auth/host-cert-rule.js';
import { RoleSet } from '../auth/role-set.js';
import { formatPath } from '../core/schema.js';
import type { Resource } from '../resources/resource.js';
import type { Role } from '../resources/role.js';
import type { DeploymentBot, DeploymentOutput } from './deployment.js';
import { definedRoles, outputRoleSet, whoseRoles } from './deployment-output-roles.js';

/** Where a path of the file was written (`line 12`), when known. */
type Locate = (path: readonly PropertyKey[]) => string | undefined;

/**
 * `ssh_host` outputs whose roles, as the file defines them, do not allow host certificates (the
 * `host_cert` rule, or a deny of it): the service would refuse every run (`host_cert_not_allowed`), and
 * only the bot's logs would say so. Judged with the service's own {@link allowsHostCertificates}, and
 * only when the file defines every role the output uses: a role kept in the cluster may hold the rule.
 * Warnings, as a `midctl` change to the cluster's copy of a role may differ.
 */
export function outputsWithoutHostCertRule(
  bots: readonly DeploymentBot[],
  resources: readonly Resource[],
  locate: Locate,
): string[] {
  const roles = definedRoles(resources);
  const warnings: string[] = [];
  bots.forEach((bot, botIndex) => {
    bot.outputs.forEach((output, index) => {
      if (output.type !== 'ssh_host') return;
      const roleSet = outputRoleSet(bot, output, roles);
      if (roleSet === undefined || allowsHostCertificates(roleSet)) return;
      const path = ['bots', botIndex, 'outputs', index, 'type'];
      const line = locate(path);
      warnings.push(
        `${formatPath(path)}${line === undefined ? '' : ` (${line})`}: ${whoseRoles(bot, output)} roles that do not allow host certificates: ${describeRoles(roleSet.roles)}. Every run of ssh_host output "${output.name}" would be refused (host_cert_not_allowed); ${fixFor(roleSet.roles, bot, output, roles)}`,
      );
    });
  });
  return warnings;
}

/** What each role lacks: the rule, or the freedom from a deny of it. */
function describeRoles(used: readonly Role[]): string {
  const denying = deniersOf(used);
  return used
    .map((role) => {
      const allows = allowsHostCertificates(new RoleSet([withoutDeny(role)]));
      const said = allows ? 'allows create on host_cert' : 'has no rule allowing create on host_cert';
      return `role "${role.metadata.name}" ${said}${denying.includes(role) ? ', and denies it' : ''}`;
    })
    .join('; ');
}

/**
 * The change that lets the output through: lifting a deny, adding a role of the bot that holds the rule
 * to an output that narrowed it away, or adding the rule.
 */
function fixFor(
  used: readonly Role[],
  bot: DeploymentBot,
  output: DeploymentOutput,
  roles: ReadonlyMap<string, Role>,
): string {
  const denying = deniersOf(used);
  if (denying.length > 0) {
    const named = denying.map((role) => `role "${role.metadata.name}"`).join(' and ');
    const rest = used.filter((role) => !denying.includes(role));
    const narrow =
      rest.length > 0 && allowsHostCertificates(new RoleSet(rest))
        ? `, or leave ${denying.length > 1 ? 'them' : 'it'} out of this output (roles: [${rest.map((role) => role.metadata.name).join(', ')}])`
        : '';
    return `narrow the deny.rules of ${named} so that none matches create on host_cert${narrow}`;
  }
  if (output.roles !== undefined) {
    const allowing = bot.roles.filter((name) => {
      const role = roles.get(name);
      return role !== undefined && allowsHostCertificates(new RoleSet([...used, role]));
    });
    if (allowing.length > 0) {
      const [first] = allowing;
      return `the bot holds ${allowing.map((name) => `role "${name}"`).join(' and ')}, which ${allowing.length > 1 ? 'allow' : 'allows'} it: add it to the output's roles (roles: [${[...(output.roles ?? []), first].join(', ')}])`;
    }
  }
  return `add \`${HOST_CERT_RULE}\` to the allow of one of these roles, or give the bot a role that has it (and give such a role only to bots that run on the hosts they name)`;
}

/**
 * The roles whose deny refuses host certificates that the others' allow rules would grant: found by
 * adding each role, deny and all, to the roles with their denies lifted, so that the service's own
 * rule matching decides.
 */
function deniersOf(used: readonly Role[]): Role[] {
  const lifted = used.map(withoutDeny);
  if (!allowsHostCertificates(new RoleSet(lifted))) return [];
  return used.filter((role) => !allowsHostCertificates(new RoleSet([...lifted, role])));
}

function withoutDeny({ spec: { deny: _, ...spec }, ...role }: Role): Role {
  return { ...role, spec };
}
