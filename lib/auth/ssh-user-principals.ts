import { AccessDeniedError } from '../core/errors.js';
import type { Node } from '../resources/node.js';
import type { RoleSet } from './role-set.js';

/** OpenSSH refuses a certificate with more principals than this (`SSHKEY_CERT_MAX_PRINCIPALS`). */
const OPENSSH_MAX_PRINCIPALS = 256;

/** The principal that lets `login` in on a node whose sshd requires scoped principals. */
function nodeScopedPrincipal(login: string, node: Node): string {
  return `${login}@${node.metadata.name}`;
}

/**
 * The principals of an identity output's SSH certificate: the logins the roles allow, which any sshd
 * trusting the user CA accepts, plus `<login>@<node>` for each node marked `scoped_principals` and each
 * login the roles allow on that node. Such a node's sshd accepts only its own scoped principals, so there
 * node_labels and deny rules hold even against a bot that holds the login for other nodes.
 *
 * Logins cannot contain `@` (`isPosixLogin`), so a scoped principal never equals a plain login.
 */
export function sshUserPrincipals(roleSet: RoleSet, nodes: readonly Node[]): string[] {
  const logins = roleSet.logins();
  const scoped = nodes
    .filter((node) => node.spec.scoped_principals === true)
    .flatMap((node) =>
      roleSet.loginsOnNode(node.metadata.labels ?? {}).map((login) => nodeScopedPrincipal(login, node)),
    );
  const principals = [...new Set([...logins, ...scoped])];
  if (principals.length > OPENSSH_MAX_PRINCIPALS) {
    throw new AccessDeniedError(
      'too_many_principals',
      `the roles ${roleSet.names.join(', ')} allow ${logins.length} logins and ${scoped.length} node-scoped ` +
        `principals, more than the ${OPENSSH_MAX_PRINCIPALS} an OpenSSH certificate may carry: ask for fewer ` +
        'roles in this output (roles: [...]), or narrow the roles’ logins or node_labels',
    );
  }
  return principals;
}
