import { RoleSet } from '../auth/role-set.js';
import { formatPath } from '../core/schema.js';
import { matchLabels } from '../resources/labels.js';
import type { Resource } from '../resources/resource.js';
import type { Role } from '../resources/role.js';
import type { DeploymentBot } from './deployment.js';
import { definedRoles, outputRoleSet, whoseRoles } from './deployment-output-roles.js';
import { describeLabels } from './describe-labels.js';

/** Where a path of the file was written (`line 12`), when known. */
type Locate = (path: readonly PropertyKey[]) => string | undefined;

/** What an output names and how a role selects it. */
interface Target {
  readonly kind: 'app' | 'kube_cluster';
  readonly field: 'app_name' | 'kubernetes_cluster';
  readonly selector: 'app_labels' | 'kubernetes_labels';
  /** The code the service refuses the output's certificates with. */
  readonly refusal: string;
  readonly allows: (roles: RoleSet, labels: Record<string, string>) => boolean;
}

const APP: Target = {
  kind: 'app',
  field: 'app_name',
  selector: 'app_labels',
  refusal: 'app_not_allowed',
  allows: (roles, labels) => roles.canAccessApp(labels),
};
const KUBE_CLUSTER: Target = {
  kind: 'kube_cluster',
  field: 'kubernetes_cluster',
  selector: 'kubernetes_labels',
  refusal: 'kube_cluster_not_allowed',
  allows: (roles, labels) => roles.canAccessKubernetesCluster(labels),
};

/**
 * Application and kubernetes outputs whose roles, as the file defines them, do not let them reach the
 * app or Kubernetes cluster the file defines for them: the labels do not match, or a deny rule does.
 * The service would refuse every run's certificates, and only the bot's logs would say so. Judged with
 * the service's own {@link RoleSet}, and only when the file defines every role the output uses and
 * the target: a role kept in the cluster may allow what the file's roles do not. Warnings, as a
 * `midctl` change to the cluster's copy (which a deploy of an unchanged file leaves) may differ.
 */
export function unreachableOutputs(
  bots: readonly DeploymentBot[],
  resources: readonly Resource[],
  locate: Locate,
): string[] {
  const roles = definedRoles(resources);
  const labelsOf = new Map<string, Record<string, string>>();
  for (const resource of resources) {
    if (resource.kind === 'app' || resource.kind === 'kube_cluster') {
      labelsOf.set(`${resource.kind}/${resource.metadata.name}`, resource.metadata.labels ?? {});
    }
  }
  const warnings: string[] = [];
  bots.forEach((bot, botIndex) => {
    bot.outputs.forEach((output, index) => {
      const target =
        output.type === 'application' ? APP : output.type === 'kubernetes' ? KUBE_CLUSTER : undefined;
      const name = target === undefined ? undefined : output[target.field];
      if (target === undefined || name === undefined) return;
      const labels = labelsOf.get(`${target.kind}/${name}`);
      const roleSet = outputRoleSet(bot, output, roles);
      if (labels === undefined || roleSet === undefined || target.allows(roleSet, labels)) return;
      const used = roleSet.roles;
      const path = ['bots', botIndex, 'outputs', index, target.field];
      const line = locate(path);
      warnings.push(
        `${formatPath(path)}${line === undefined ? '' : ` (${line})`}: ${whoseRoles(bot, output)} roles that do not allow ${target.kind} "${name}" (labels ${describeLabels(labels)}): ${used.map((role) => describeRole(role, target)).join('; ')}. Every run of output "${output.name}" would be refused (${target.refusal}); ${fixFor(used, target, name, labels)}`,
      );
    });
  });
  return warnings;
}

/** A role's selectors for the target, as the file would write them. */
function describeRole(role: Role, target: Target): string {
  const allow = role.spec.allow?.[target.selector];
  const deny = role.spec.deny?.[target.selector];
  const allows =
    allow === undefined || Object.keys(allow).length === 0
      ? `sets no ${target.selector}`
      : `allows ${target.selector} ${describeLabels(allow)}`;
  return `role "${role.metadata.name}" ${allows}${deny === undefined ? '' : `, denies ${target.selector} ${describeLabels(deny)}`}`;
}

/** The change that lets the output through: lifting a deny that matches, or matching an allow. */
function fixFor(used: readonly Role[], target: Target, name: string, labels: Record<string, string>): string {
  const withoutDenies = used.map(({ spec: { deny: _, ...spec }, ...role }) => ({ ...role, spec }));
  if (target.allows(new RoleSet(withoutDenies), labels)) {
    const denying = used.filter((role) => matchLabels(role.spec.deny?.[target.selector], labels));
    return `${denying.map((role) => `role "${role.metadata.name}"`).join(' and ')} ${denying.length > 1 ? 'deny' : 'denies'} it: narrow deny.${target.selector}, or change the ${target.kind}'s labels`;
  }
  return Object.keys(labels).length === 0
    ? `give ${target.kind} "${name}" labels (metadata.labels) that one of these roles' ${target.selector} select`
    : `add a selector its labels match to one of these roles' ${target.selector} (e.g. ${target.selector}: ${describeLabels(labels)}), or give ${target.kind} "${name}" labels a role selects`;
}
