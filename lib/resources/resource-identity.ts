import type { Resource } from './resource.js';

/**
 * Whether a resource's name is a secret: a token-method token's name is the join token itself. Takes
 * the kind and join method as read, so that a document not yet parsed (whose method may be missing or
 * wrong) is judged by the same rule: anything but an iam token counts as secret.
 */
export function isSecretName(kind: unknown, joinMethod: unknown): boolean {
  return kind === 'token' && joinMethod !== 'iam';
}

/** Whether a parsed resource's name is a secret (see {@link isSecretName}). */
export function hasSecretName(resource: Resource): boolean {
  return isSecretName(resource.kind, resource.kind === 'token' ? resource.spec.join_method : undefined);
}

/** A resource as messages name it (`role "ops"`), never showing a secret name. */
export function describeResource(resource: Resource): string {
  return hasSecretName(resource) ? 'token (name hidden)' : `${resource.kind} "${resource.metadata.name}"`;
}

/**
 * The first resource of a batch that repeats an earlier one's kind and name, with both positions.
 * A batch is applied one write after another, not as one transaction: the first copy would be created
 * before the second failed as existing (or, with force, the second would silently replace it), so
 * callers refuse such a batch before writing anything.
 */
export function findRepeatedResource(
  resources: readonly Resource[],
): { readonly index: number; readonly first: number; readonly resource: Resource } | undefined {
  const firstIndexOf = new Map<string, number>();
  for (const [index, resource] of resources.entries()) {
    const key = `${resource.kind}/${resource.metadata.name}`;
    const first = firstIndexOf.get(key);
    if (first !== undefined) return { index, first, resource };
    firstIndexOf.set(key, index);
  }
  return undefined;
}
