/**
 * What the admin routes take as KIND in `/v1/admin/resources/KIND[/NAME[/ID]]` (what users type after
 * `midctl get` and `midctl rm`), singular or plural, each mapped to the kind it means.
 */
export const RESOURCE_KINDS = {
  role: 'role',
  roles: 'role',
  bot: 'bot',
  bots: 'bot',
  token: 'token',
  tokens: 'token',
  app: 'app',
  apps: 'app',
  kube_cluster: 'kube_cluster',
  kube_clusters: 'kube_cluster',
  node: 'node',
  nodes: 'node',
  bot_instance: 'bot_instance',
  bot_instances: 'bot_instance',
} as const;

/** A kind the admin routes know (singular). */
export type ResourceKind = (typeof RESOURCE_KINDS)[keyof typeof RESOURCE_KINDS];

/** The plural spellings, as lists and messages offer them: `roles, bots, tokens, …`. */
export const RESOURCE_KIND_LISTS: readonly string[] = Object.keys(RESOURCE_KINDS).filter((kind) =>
  kind.endsWith('s'),
);

/** The kind `text` spells, or undefined when it is none. */
export function resourceKindOf(text: string): ResourceKind | undefined {
  return Object.hasOwn(RESOURCE_KINDS, text)
    ? RESOURCE_KINDS[text as keyof typeof RESOURCE_KINDS]
    : undefined;
}

/**
 * How many names after the kind name one resource: two for a bot instance (`bot_instance/BOT/ID`, an
 * instance is named within its bot), one for every other kind (`role/NAME`).
 */
export function nameSegmentsOf(kind: ResourceKind): 1 | 2 {
  return kind === 'bot_instance' ? 2 : 1;
}
