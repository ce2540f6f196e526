import type { RoleSet } from './role-set.js';

/** The rule a role needs for `ssh_host` outputs, as a role file writes it. */
export const HOST_CERT_RULE = 'rules: [{resources: [host_cert], verbs: [create]}]';

/**
 * Whether roles let a bot issue SSH host certificates (`ssh_host` outputs): a host certificate lets its
 * holder pose as the host to every client trusting the cluster's host CA, so it takes a rule of its own
 * rather than following from node access. Shared by the service and the deployment file's synth check,
 * so that the two cannot disagree.
 */
export function allowsHostCertificates(roleSet: RoleSet): boolean {
  return roleSet.allowsRule('host_cert', 'create');
}
