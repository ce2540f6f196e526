import { closestNames } from '../core/closest-names.js';
import { NotFoundError } from '../core/errors.js';
import type { Resource } from '../resources/resource.js';
import type { StorageBackend, StoredItem } from './storage/storage-backend.js';

/** The kinds an operator writes; bot instances are kept by `BotInstanceStore`. */
export type StoredKind = 'role' | 'bot' | 'token' | 'app' | 'kube_cluster' | 'node';
export type ResourceOf<K extends StoredKind> = Extract<Resource, { kind: K }>;

export const COLLECTION: Record<StoredKind, string> = {
  role: 'roles',
  bot: 'bots',
  token: 'tokens',
  app: 'apps',
  kube_cluster: 'kube_clusters',
  node: 'nodes',
};

/** Tokens stay readable for a day past `expires`, so a late join hears "expired" rather than "unknown". */
const TOKEN_GRACE_MS = 24 * 3_600_000;

export interface Revisioned<T> {
  readonly resource: T;
  readonly revision: string;
}

function keyOf(kind: StoredKind, name: string): string {
  return `${COLLECTION[kind]}/${name}`;
}

function expiryOf(resource: Resource): number | undefined {
  if (resource.kind !== 'token' || resource.metadata.expires === undefined) return undefined;
  return Date.parse(resource.metadata.expires) + TOKEN_GRACE_MS;
}

function decode<K extends StoredKind>(item: StoredItem): Revisioned<ResourceOf<K>> {
  return { resource: JSON.parse(item.value) as ResourceOf<K>, revision: item.revision };
}

/** Typed access to the operator's resources over the storage port, one item per resource. */
export class ResourceStore {
  constructor(private readonly storage: StorageBackend) {}

  async get<K extends StoredKind>(kind: K, name: string): Promise<Revisioned<ResourceOf<K>> | undefined> {
    const item = await this.storage.get(keyOf(kind, name));
    return item === undefined ? undefined : decode<K>(item);
  }

  async require<K extends StoredKind>(kind: K, name: string): Promise<Revisioned<ResourceOf<K>>> {
    const found = await this.get(kind, name);
    if (found === undefined) {
      // Read only on the way to a refusal. Never for tokens: their names are the secrets of the other tokens.
      const [closest] =
        kind === 'token'
          ? []
          : closestNames(
              name,
              (await this.list(kind)).map((resource) => (resource as Resource).metadata.name),
            );
      throw new NotFoundError(
        `${kind}_not_found`,
        `${kind} "${name}" does not exist${closest === undefined ? '' : ` (did you mean "${closest}"?)`}; list them with \`midctl get ${COLLECTION[kind]}\``,
      );
    }
    return found;
  }

  async list<K extends StoredKind>(kind: K): Promise<ResourceOf<K>[]> {
    const items = await this.storage.list(`${COLLECTION[kind]}/`);
    return items.map((item) => decode<K>(item).resource);
  }

  /** Creates the resource; false when one with that name exists. */
  async create(resource: ResourceOf<StoredKind>): Promise<boolean> {
    const expiresAt = expiryOf(resource);
    const created = await this.storage.create({
      key: keyOf(resource.kind, resource.metadata.name),
      value: JSON.stringify(resource),
      ...(expiresAt === undefined ? {} : { expiresAt }),
    });
    return created !== undefined;
  }

  async put(resource: ResourceOf<StoredKind>): Promise<void> {
    const expiresAt = expiryOf(resource);
    await this.storage.put({
      key: keyOf(resource.kind, resource.metadata.name),
      value: JSON.stringify(resource),
      ...(expiresAt === undefined ? {} : { expiresAt }),
    });
  }

  /** Replaces the resource only if it is still at `revision`. */
  async replace(resource: ResourceOf<StoredKind>, revision: string): Promise<boolean> {
    const expiresAt = expiryOf(resource);
    const swapped = await this.storage.compareAndSwap(
      {
        key: keyOf(resource.kind, resource.metadata.name),
        value: JSON.stringify(resource),
        ...(expiresAt === undefined ? {} : { expiresAt }),
      },
      revision,
    );
    return swapped !== undefined;
  }

  /** Deletes the resource (only at `revision`, when given); true when this call removed it. */
  async delete(kind: StoredKind, name: string, revision?: string): Promise<boolean> {
    return this.storage.delete(keyOf(kind, name), revision);
  }
}
