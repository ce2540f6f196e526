import type { Role, RoleConditions } from './role.js';
import { TELEPORT_OTHER_KIND_CONDITIONS, TELEPORT_ROLE_OPTIONS } from './teleport-role-fields.js';

/** Rule resources and verbs that mean something to this service (`ssh_host` outputs). */
const ENFORCED_RULES: Readonly<Record<string, readonly string[]>> = { host_cert: ['create'] };

/**
 * What a role says that nothing here enforces, in words an operator can act on. Such fields are accepted
 * so that Teleport roles paste cleanly, but there is no proxy to apply them: `midctl create` prints these
 * so that nobody counts on them.
 */
export function roleNotices(role: Role): string[] {
  const notices: string[] = [];
  const name = role.metadata.name;
  for (const side of ['allow', 'deny'] as const) {
    const conditions: RoleConditions | undefined = role.spec[side];
    if (conditions === undefined) continue;
    if (limitsLabels(conditions.node_labels, side)) {
      notices.push(
        `role "${name}": ${side}.node_labels decides which nodes go into a bot's ssh_config, but an sshd that trusts the user CA lets in any certificate naming the login; make each node check its labels (spec.scoped_principals: true and AuthorizedPrincipalsCommand, README "Enforcing node_labels at sshd")`,
      );
    }
    if (limitsLabels(conditions.app_labels, side)) {
      notices.push(
        `role "${name}": ${side}.app_labels decides which apps a bot gets certificates for, but an app that checks only the CA accepts any certificate of the cluster; have each app check the SAN URI mid://<cluster>/apps/<its name>`,
      );
    }
    const otherKinds = TELEPORT_OTHER_KIND_CONDITIONS.filter((key) => conditions[key] !== undefined);
    if (otherKinds.length > 0) {
      notices.push(
        `role "${name}": ${otherKinds.map((key) => `${side}.${key}`).join(', ')} ${otherKinds.length === 1 ? 'means' : 'mean'} nothing here: this cluster issues certificates for SSH, apps and Kubernetes only`,
      );
    }
    const narrowed = (conditions.rules ?? []).filter(
      (rule) => rule.where !== undefined || rule.actions !== undefined,
    );
    if (narrowed.length > 0) {
      notices.push(`role "${name}": ${side}.rules where and actions are kept but applied to nothing`);
    }
    if ((conditions.kubernetes_resources ?? []).length > 0) {
      notices.push(
        `role "${name}": ${side}.kubernetes_resources is not enforced (no proxy stands between a kubeconfig and the API server); ${side === 'allow' ? 'grant the same access with RBAC bound to' : 'leave that access out of the RBAC bindings of'} the role's kubernetes_users or kubernetes_groups`,
      );
    }
    const unenforced = (conditions.rules ?? []).flatMap((rule) =>
      rule.resources.flatMap((resource) =>
        rule.verbs
          .filter(
            (verb) => !(ENFORCED_RULES[resource] ?? []).includes(verb) && resource !== '*' && verb !== '*',
          )
          .map((verb) => `${verb} on ${resource}`),
      ),
    );
    if (unenforced.length > 0) {
      notices.push(
        `role "${name}": ${side}.rules ${unenforced.join(', ')} ${unenforced.length === 1 ? 'means' : 'mean'} nothing here; only create on host_cert does (ssh_host outputs)`,
      );
    }
  }
  const options = role.spec.options ?? {};
  const ignoredOptions = TELEPORT_ROLE_OPTIONS.filter((key) => options[key] !== undefined);
  if (ignoredOptions.length > 0) {
    notices.push(
      `role "${name}": options ${ignoredOptions.join(', ')} ${ignoredOptions.length === 1 ? 'means' : 'mean'} nothing here (no proxy carries sessions); only options.max_session_ttl applies`,
    );
  }
  return notices;
}

/**
 * Whether label conditions single out some resources rather than all: a deny names any, an allow
 * anything but the wildcard `'*': '*'` (which leaves nothing for a server to check).
 */
function limitsLabels(
  labels: Record<string, string | readonly string[]> | undefined,
  side: 'allow' | 'deny',
): boolean {
  if (labels === undefined) return false;
  const entries = Object.entries(labels);
  if (entries.length === 0) return false;
  if (side === 'deny') return true;
  return !entries.every(
    ([key, value]) => key === '*' && (value === '*' || (Array.isArray(value) && value.includes('*'))),
  );
}
