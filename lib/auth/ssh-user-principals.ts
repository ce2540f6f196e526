import { AccessDeniedError } from '../core/errors.js';
import type { Node } from '../resources/node.js';
import type { RoleSet } from './role-set.js';

/** OpenSSH refuses a certificate with more principals than this (`SSHKEY_CERT_MAX_PRINCIPALS`). */
export const OPENSSH_MAX_PRINCIPALS = 256;

/** The principal that lets `login` in on a node whose sshd requires scoped principals. */
function nodeScopedPrincipal(login: string, node: Node): string {
  return `${login}@${node.metadata.name}`;
}

/** An identity certificate's principals, in their two kinds. */
export interface SshPrincipalPlan {
  /** The logins the roles allow, which any sshd trusting the user CA accepts. */
  readonly logins: readonly string[];
  /** `<login>@<node>` for each scoped node and each login the roles allow there. */
  readonly scoped: readonly string[];
  /** Both, without repeats: what the certificate carries. */
  readonly all: readonly string[];
}

/**
 * The principals an identity output's SSH certificate would carry with these roles and nodes, whether or
 * not OpenSSH would accept that many. Logins cannot contain `@` (`isPosixLogin`), so a scoped principal
 * never equals a plain login.
 */
export function planSshPrincipals(roleSet: RoleSet, nodes: readonly Node[]): SshPrincipalPlan {
  const logins = roleSet.logins();
  const scoped = nodes
    .filter((node) => node.spec.scoped_principals === true)
    .flatMap((node) =>
      roleSet.loginsOnNode(node.metadata.labels ?? {}).map((login) => nodeScopedPrincipal(login, node)),
    );
  return { logins, scoped, all: [...new Set([...logins, ...scoped])] };
}

/**
 * The principals of an identity output's SSH certificate: the logins the roles allow, plus `<login>@<node>`
 * for each node marked `scoped_principals` and each login the roles allow on that node. Such a node's
 * sshd accepts only its own scoped principals, so there node_labels and deny rules hold even against a
 * bot that holds the login for other nodes. More than OpenSSH accepts is refused (`too_many_principals`).
 */
export function sshUserPrincipals(roleSet: RoleSet, nodes: readonly Node[]): string[] {
  const plan = planSshPrincipals(roleSet, nodes);
  if (plan.all.length > OPENSSH_MAX_PRINCIPALS) {
    throw new AccessDeniedError(
      'too_many_principals',
      `the roles ${roleSet.names.join(', ')} allow ${plan.logins.length} logins and ${plan.scoped.length} node-scoped ` +
        `principals, more than the ${OPENSSH_MAX_PRINCIPALS} an OpenSSH certificate may carry: ask for fewer ` +
        'roles in this output (roles: [...]), or narrow the roles’ logins or node_labels',
    );
  }
  return [...plan.all];
}
