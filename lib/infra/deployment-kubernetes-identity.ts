import { type KubernetesSubjects, kubernetesSubjects } from '../auth/kubernetes-identity.js';
import { RoleSet } from '../auth/role-set.js';
import { formatPath } from '../core/schema.js';
import { matchLabels } from '../resources/labels.js';
import type { Resource } from '../resources/resource.js';
import type { Role } from '../resources/role.js';
import type { DeploymentBot } from './deployment.js';
import { definedRoles, outputRoleSet, readsTraits, whoseRoles } from './deployment-output-roles.js';
import { describeLabels } from './describe-labels.js';

/** Where a path of the file was written (`line 12`), when known. */
type Locate = (path: readonly PropertyKey[]) => string | undefined;
type Labels = Record<string, string>;

/**
 * Kubernetes outputs whose roles, as the file defines them, allow the cluster the file defines but give
 * a certificate for it no identity there: no `kubernetes_users` and no `kubernetes_groups` (a role's
 * apply only to the clusters its `kubernetes_labels` select), or several users where a certificate names
 * one. The service would refuse every run (`no_kubernetes_identity`, `ambiguous_kubernetes_user`), and
 * only the bot's logs would say so. Judged with the service's own {@link kubernetesSubjects}, and only
 * when the file defines every role the output uses and the cluster, and the roles' users and groups are
 * not trait templates, which the cluster's copy of the bot may fill. A cluster the roles do not allow is
 * `deployment-role-reach.ts`'s to warn of, as the service refuses that first.
 */
export function outputsWithoutKubernetesIdentity(
  bots: readonly DeploymentBot[],
  resources: readonly Resource[],
  locate: Locate,
): string[] {
  const roles = definedRoles(resources);
  const clusters = new Map(
    resources.flatMap((resource) =>
      resource.kind === 'kube_cluster' ? [[resource.metadata.name, resource.metadata.labels ?? {}]] : [],
    ),
  );
  const warnings: string[] = [];
  bots.forEach((bot, botIndex) => {
    bot.outputs.forEach((output, index) => {
      const name = output.type === 'kubernetes' ? output.kubernetes_cluster : undefined;
      const labels = name === undefined ? undefined : clusters.get(name);
      const roleSet = outputRoleSet(bot, output, roles);
      if (name === undefined || labels === undefined || roleSet === undefined) return;
      if (!roleSet.canAccessKubernetesCluster(labels)) return;
      if (readsTraits(roleSet, (c) => [...(c.kubernetes_users ?? []), ...(c.kubernetes_groups ?? [])]))
        return;
      const subjects = kubernetesSubjects(roleSet, labels);
      if (subjects.problem === undefined) return;
      const path = ['bots', botIndex, 'outputs', index, 'kubernetes_cluster'];
      const line = locate(path);
      const cluster = `kube_cluster "${name}" (labels ${describeLabels(labels)})`;
      const problem =
        subjects.problem === 'no_kubernetes_identity'
          ? `allow ${cluster} but give it no kubernetes_users and no kubernetes_groups: ${describeNone(roleSet.roles, labels)}`
          : `give ${cluster} several kubernetes_users (${subjects.users.join(', ')}), and a certificate names one user: ${describeUsers(roleSet.roles, labels, subjects)}`;
      const fix =
        subjects.problem === 'no_kubernetes_identity'
          ? fixNone(roleSet.roles, name, labels)
          : fixSeveral(roleSet.roles, labels, subjects);
      warnings.push(
        `${formatPath(path)}${line === undefined ? '' : ` (${line})`}: ${whoseRoles(bot, output)} roles that ${problem}. Every run of output "${output.name}" would be refused (${subjects.problem}); ${fix}`,
      );
    });
  });
  return warnings;
}

/** `kubernetes_users [a], kubernetes_groups [b]` of some conditions, or undefined when they set neither. */
function subjectsOf(conditions: Role['spec']['allow']): string | undefined {
  const fields = (['kubernetes_users', 'kubernetes_groups'] as const).flatMap((field) => {
    const values = conditions?.[field] ?? [];
    return values.length === 0 ? [] : [`${field} [${values.join(', ')}]`];
  });
  return fields.length === 0 ? undefined : fields.join(', ');
}

/** Each role that bears on the cluster's users and groups: whether it selects the cluster, and what it sets or denies. */
function describeNone(used: readonly Role[], labels: Labels): string {
  return used
    .flatMap((role) => {
      const sets = subjectsOf(role.spec.allow);
      const denies = subjectsOf(role.spec.deny);
      const selects = matchLabels(role.spec.allow?.kubernetes_labels, labels);
      if (!selects && sets === undefined && denies === undefined) return [];
      const selector = role.spec.allow?.kubernetes_labels;
      const allowed = selects
        ? `selects it and sets ${sets ?? 'neither'}`
        : `sets ${sets ?? 'neither'}, but its kubernetes_labels ${selector === undefined ? '(none)' : describeLabels(selector)} do not select it`;
      return [
        `role "${role.metadata.name}" ${allowed}${denies === undefined ? '' : `, and denies ${denies}`}`,
      ];
    })
    .join('; ');
}

/** A deny to narrow, a selector to widen, or users or groups to add. */
function fixNone(used: readonly Role[], name: string, labels: Labels): string {
  const lifted = used.map(({ spec: { deny: _, ...spec }, ...role }) => ({ ...role, spec }));
  if (kubernetesSubjects(new RoleSet(lifted), labels).problem === undefined) {
    const denying = used.filter((role) => subjectsOf(role.spec.deny) !== undefined);
    return `narrow the deny.kubernetes_users and deny.kubernetes_groups of ${quoted(denying)}, which deny what the roles give`;
  }
  const selecting = used.filter((role) => matchLabels(role.spec.allow?.kubernetes_labels, labels));
  const elsewhere = used.filter(
    (role) => !selecting.includes(role) && subjectsOf(role.spec.allow) !== undefined,
  );
  const add = `add kubernetes_groups (or kubernetes_users) that the cluster authorizes to ${quoted(selecting)}, which ${selecting.length > 1 ? 'select' : 'selects'} it`;
  return elsewhere.length === 0
    ? add
    : `a role's kubernetes_users and kubernetes_groups apply only to the clusters its kubernetes_labels select: give ${quoted(elsewhere)} kubernetes_labels that select kube_cluster "${name}" (e.g. kubernetes_labels: ${describeLabels(labels)}), or ${add}`;
}

/** Which role gives which of the users the roles give the cluster. */
function describeUsers(used: readonly Role[], labels: Labels, subjects: KubernetesSubjects): string {
  return used
    .flatMap((role) => {
      const users = usersOf(role, labels, subjects);
      return users.length === 0 ? [] : [`role "${role.metadata.name}" gives ${users.join(', ')}`];
    })
    .join('; ');
}

/**
 * The output's roles narrowed to those that give one user, when the service would then issue; else
 * one user to keep.
 */
function fixSeveral(used: readonly Role[], labels: Labels, subjects: KubernetesSubjects): string {
  for (const user of subjects.users) {
    const kept = used.filter((role) => usersOf(role, labels, subjects).every((other) => other === user));
    const narrowed = new RoleSet(kept);
    if (
      kept.length > 0 &&
      narrowed.canAccessKubernetesCluster(labels) &&
      kubernetesSubjects(narrowed, labels).problem === undefined
    ) {
      return `narrow the output's roles so that one user remains (roles: [${kept.map((role) => role.metadata.name).join(', ')}] gives ${user}), or leave one user in the kubernetes_users these roles give the cluster`;
    }
  }
  return 'leave one user in the kubernetes_users these roles give the cluster';
}

/** The users a role gives the cluster, among those the roles together give (after every role's denies). */
function usersOf(role: Role, labels: Labels, subjects: KubernetesSubjects): string[] {
  return new RoleSet([role]).kubernetesUsers(labels).filter((user) => subjects.users.includes(user));
}

function quoted(roles: readonly Role[]): string {
  return roles.map((role) => `role "${role.metadata.name}"`).join(' and ');
}
