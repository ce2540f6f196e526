import { parseDuration } from '../core/duration.js';
import { AccessDeniedError } from '../core/errors.js';
import { matchLabels } from '../resources/labels.js';
import { isKubernetesSubject, isPosixLogin } from '../resources/principals.js';
import type { Role } from '../resources/role.js';
import { expandTraitTemplates } from '../resources/traits.js';

/** Teleport's default cap when no role sets `max_session_ttl`. */
export const DEFAULT_MAX_SESSION_TTL_MS = 30 * 3_600_000;

type Conditions = NonNullable<Role['spec']['allow']>;
type Labels = Record<string, string>;

/**
 * What a set of roles allows a bot, evaluated the Teleport way: allow rules are unioned, any matching
 * deny wins, trait templates (`{{internal.logins}}`) expand from the bot's traits, and the shortest
 * `max_session_ttl`, of the roles or of the bot itself, caps every certificate.
 */
export class RoleSet {
  constructor(
    readonly roles: readonly Role[],
    private readonly traits: Readonly<Record<string, string[]>> = {},
    /** The bot's own `spec.max_session_ttl`: it can only shorten what the roles permit. */
    private readonly botMaxSessionTtl?: string,
  ) {}

  get names(): string[] {
    return this.roles.map((role) => role.metadata.name);
  }

  private allows(): Conditions[] {
    return this.roles.map((role) => role.spec.allow ?? {});
  }

  private denies(): Conditions[] {
    return this.roles.map((role) => role.spec.deny ?? {});
  }

  /**
   * Trait values come from the bot, not from the role's author: `accept` drops those that are not valid
   * where they land (a login, a Kubernetes subject), as Teleport skips invalid logins.
   */
  private collect(
    pick: (conditions: Conditions) => readonly string[] | undefined,
    from: Conditions[],
    accept: (value: string) => boolean,
  ): string[] {
    const values = from.flatMap((conditions) =>
      expandTraitTemplates([...(pick(conditions) ?? [])], this.traits, accept),
    );
    return [...new Set(values)].sort();
  }

  private allowedStrings(
    pick: (conditions: Conditions) => readonly string[] | undefined,
    accept: (value: string) => boolean,
    allows: Conditions[] = this.allows(),
  ): string[] {
    const denied = new Set(this.collect(pick, this.denies(), () => true));
    return this.collect(pick, allows, accept).filter((value) => !denied.has(value) && !denied.has('*'));
  }

  /** SSH logins (certificate principals). */
  logins(): string[] {
    return this.allowedStrings((conditions) => conditions.logins, isPosixLogin);
  }

  /**
   * The SSH logins on a node with these labels: as in Teleport, a role's logins apply only to the nodes
   * its node_labels match, and a deny rule matching the node denies it whole.
   */
  loginsOnNode(labels: Labels): string[] {
    if (!this.canAccessNode(labels)) return [];
    return this.allowedStrings(
      (conditions) => conditions.logins,
      isPosixLogin,
      this.allows().filter((conditions) => matchLabels(conditions.node_labels, labels)),
    );
  }

  /**
   * The allow conditions that let in a Kubernetes cluster with these labels. As in Teleport, a role's
   * kubernetes_users and kubernetes_groups apply only to the clusters its kubernetes_labels match: a
   * prod-only role must not lend its admin group to a certificate for dev.
   */
  private allowsForKubernetesCluster(labels: Labels): Conditions[] {
    return this.allows().filter((conditions) => matchLabels(conditions.kubernetes_labels, labels));
  }

  /** Kubernetes users for a cluster with these labels. */
  kubernetesUsers(clusterLabels: Labels): string[] {
    return this.allowedStrings(
      (conditions) => conditions.kubernetes_users,
      isKubernetesSubject,
      this.allowsForKubernetesCluster(clusterLabels),
    );
  }

  /** Kubernetes groups for a cluster with these labels. */
  kubernetesGroups(clusterLabels: Labels): string[] {
    return this.allowedStrings(
      (conditions) => conditions.kubernetes_groups,
      isKubernetesSubject,
      this.allowsForKubernetesCluster(clusterLabels),
    );
  }

  private labelAccess(pick: (conditions: Conditions) => Conditions['app_labels'], labels: Labels): boolean {
    if (this.denies().some((conditions) => matchLabels(pick(conditions), labels))) return false;
    return this.allows().some((conditions) => matchLabels(pick(conditions), labels));
  }

  canAccessApp(labels: Labels): boolean {
    return this.labelAccess((conditions) => conditions.app_labels, labels);
  }

  canAccessKubernetesCluster(labels: Labels): boolean {
    return this.labelAccess((conditions) => conditions.kubernetes_labels, labels);
  }

  canAccessNode(labels: Labels): boolean {
    return this.labelAccess((conditions) => conditions.node_labels, labels);
  }

  /** Whether the roles allow `verb` on `resource` through `rules` (e.g. `create` on `host_cert`). */
  allowsRule(resource: string, verb: string): boolean {
    const matches = (conditions: Conditions) =>
      (conditions.rules ?? []).some(
        (rule) =>
          (rule.resources.includes(resource) || rule.resources.includes('*')) &&
          (rule.verbs.includes(verb) || rule.verbs.includes('*')),
      );
    if (this.denies().some(matches)) return false;
    return this.allows().some(matches);
  }

  /** The longest certificate lifetime these roles, and the bot, permit. */
  maxSessionTtlMs(): number {
    const caps = this.roles
      .map((role) => role.spec.options?.max_session_ttl)
      .filter((value): value is string => value !== undefined)
      .map((value) => parseDuration(value));
    const rolesCap = caps.length === 0 ? DEFAULT_MAX_SESSION_TTL_MS : Math.min(...caps);
    return this.botMaxSessionTtl === undefined
      ? rolesCap
      : Math.min(rolesCap, parseDuration(this.botMaxSessionTtl));
  }
}

/**
 * Narrows the bot's roles to the ones an output asks for. An output may ask for a subset, never more:
 * asking for a role the bot does not hold is refused, naming the role.
 */
export function selectRoles(
  botName: string,
  botRoles: readonly string[],
  requested: readonly string[] | undefined,
): string[] {
  if (requested === undefined || requested.length === 0) return [...botRoles];
  const missing = requested.filter((role) => !botRoles.includes(role));
  if (missing.length > 0) {
    throw new AccessDeniedError(
      'role_not_held',
      `the bot does not hold the role${missing.length > 1 ? 's' : ''} ${missing.map((r) => `"${r}"`).join(', ')}; ` +
        `it holds ${botRoles.map((r) => `"${r}"`).join(', ')}. Add the role with \`midctl bots update ${botName} --add-roles=${missing.join(',')}\` or remove it from the output's roles`,
    );
  }
  return [...new Set(requested)];
}
