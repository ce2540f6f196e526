import type { RoleSet } from './role-set.js';

/** Why roles that allow a Kubernetes cluster still give a certificate for it no identity there. */
export type KubernetesIdentityProblem = 'no_kubernetes_identity' | 'ambiguous_kubernetes_user';

/** Who a `kubernetes` output's certificate is in a cluster, as its roles decide. */
export interface KubernetesSubjects {
  /** The `kubernetes_users` the roles give for the cluster; the certificate names at most one. */
  readonly users: string[];
  /** The `kubernetes_groups` the roles give for the cluster; the certificate carries them all. */
  readonly groups: string[];
  /** Set when the service refuses the certificate with this code. */
  readonly problem?: KubernetesIdentityProblem;
}

/**
 * The Kubernetes users and groups that roles give for a cluster with these labels, and whether the
 * service refuses the certificate: with neither, it would authenticate as nobody the cluster authorizes;
 * with several users it cannot pick one (a certificate's CN is one user). Shared by the service and the
 * deployment file's synth check, so that the two cannot disagree.
 */
export function kubernetesSubjects(
  roleSet: RoleSet,
  clusterLabels: Record<string, string>,
): KubernetesSubjects {
  const users = roleSet.kubernetesUsers(clusterLabels);
  const groups = roleSet.kubernetesGroups(clusterLabels);
  if (users.length === 0 && groups.length === 0) {
    return { users, groups, problem: 'no_kubernetes_identity' };
  }
  if (users.length > 1) return { users, groups, problem: 'ambiguous_kubernetes_user' };
  return { users, groups };
}
