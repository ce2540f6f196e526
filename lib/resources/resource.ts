import type * as z from 'zod';
import { closestNames } from '../core/closest-names.js';
import { ConfigError } from '../core/errors.js';
import { describeValue, parseWithSchema } from '../core/schema.js';
import { APP_VERSIONS, type App, appSchema } from './app.js';
import { BOT_VERSIONS, type Bot, botNameProblem, botSchema } from './bot.js';
import { BOT_INSTANCE_VERSIONS, type BotInstance, botInstanceSchema } from './bot-instance.js';
import { KUBE_CLUSTER_VERSIONS, type KubeCluster, kubeClusterSchema } from './kube-cluster.js';
import { resourceNameProblem } from './metadata.js';
import { NODE_VERSIONS, type Node, nodeSchema } from './node.js';
import { isSecretName } from './resource-identity.js';
import { ROLE_VERSIONS, type Role, roleSchema } from './role.js';
import { TOKEN_VERSIONS, type Token, tokenSchema } from './token.js';

/** Any resource. Narrow on `kind`. */
export type Resource = Role | Bot | Token | BotInstance | App | KubeCluster | Node;

/** Every kind, in the order people usually create them. */
export const RESOURCE_KINDS = [
  'role',
  'bot',
  'token',
  'bot_instance',
  'app',
  'kube_cluster',
  'node',
] as const;
export type ResourceKind = (typeof RESOURCE_KINDS)[number];

/**
 * Kinds only the auth service writes. `parseResource` reads them (for output and round trips); refusing
 * to create them from user input is the caller's job.
 */
export const READ_ONLY_KINDS: readonly ResourceKind[] = ['bot_instance'];

/**
 * The schema of each kind. Like every schema in `lib/resources`, they are built on first use
 * (`builtOnFirstUse`): the auth service checks resources only on admin calls and deploys, which few of
 * its cold starts serve.
 */
const KINDS: Record<ResourceKind, { versions: readonly string[]; schema: z.ZodType<Resource> }> = {
  role: { versions: ROLE_VERSIONS, schema: roleSchema },
  bot: { versions: BOT_VERSIONS, schema: botSchema },
  token: { versions: TOKEN_VERSIONS, schema: tokenSchema },
  bot_instance: { versions: BOT_INSTANCE_VERSIONS, schema: botInstanceSchema },
  app: { versions: APP_VERSIONS, schema: appSchema },
  kube_cluster: { versions: KUBE_CLUSTER_VERSIONS, schema: kubeClusterSchema },
  node: { versions: NODE_VERSIONS, schema: nodeSchema },
};

/** Versions accepted for each kind. */
export const SUPPORTED_VERSIONS: Readonly<Record<ResourceKind, readonly string[]>> = Object.fromEntries(
  RESOURCE_KINDS.map((kind) => [kind, KINDS[kind].versions]),
) as Record<ResourceKind, readonly string[]>;

/** Whether users may create or update resources of `kind`. */
export function isReadOnlyKind(kind: ResourceKind): boolean {
  return READ_ONLY_KINDS.includes(kind);
}

interface Context {
  source?: string | undefined;
  locate?: ((path: readonly PropertyKey[]) => string | undefined) | undefined;
}

function isKind(value: unknown): value is ResourceKind {
  return typeof value === 'string' && Object.hasOwn(KINDS, value);
}

function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

function property(value: unknown, key: string): unknown {
  return isMapping(value) && Object.hasOwn(value, key) ? value[key] : undefined;
}

function parseAt(doc: unknown, context: Context): Resource {
  const head = context.source === undefined ? '' : `${context.source}: `;
  const at = (path: readonly PropertyKey[]) => {
    const location = context.locate?.(path);
    return location === undefined ? '' : ` (${location})`;
  };
  const kinds = RESOURCE_KINDS.join(', ');
  if (!isMapping(doc)) {
    throw new ConfigError(
      'invalid_resource',
      `${head}expected a resource, a mapping with kind, version, metadata and spec; got ${describeValue(doc)}${at([])}`,
    );
  }
  const kind = property(doc, 'kind');
  if (!isKind(kind)) {
    const [meant] = typeof kind === 'string' ? closestNames(kind, RESOURCE_KINDS) : [];
    throw new ConfigError(
      'invalid_resource',
      `${head}kind${at(['kind'])}: got ${describeValue(kind)}, expected one of ${kinds}${meant === undefined ? '' : `; did you mean ${meant}?`}`,
    );
  }
  // For `token`-method tokens the name is the secret itself, so it is never echoed.
  const secret = isSecretName(kind, property(property(doc, 'spec'), 'join_method'));
  const name = property(property(doc, 'metadata'), 'name');
  // An invalid name is reported (once) by the schema; only a valid one is worth naming the resource by.
  const nameProblem = kind === 'bot' ? botNameProblem : resourceNameProblem;
  const named = typeof name === 'string' && nameProblem(name) === undefined;
  const label = secret ? `${kind} (name hidden)` : named ? `${kind} "${name}"` : kind;
  const prefix = `${head}${label}: `;
  const { versions, schema } = KINDS[kind];
  const version = property(doc, 'version');
  if (typeof version !== 'string' || !versions.includes(version)) {
    throw new ConfigError(
      'invalid_resource',
      `${prefix}version${at(['version'])}: got ${describeValue(version)}, ${kind} supports version ${versions.join(', ')}; write e.g. version: ${versions[versions.length - 1]}`,
    );
  }
  return parseWithSchema(schema, doc, {
    code: 'invalid_resource',
    error: (code, message) => new ConfigError(code, prefix + message),
    // Certificates are public, but a private key pasted into ca_cert by mistake is not; a recorded
    // join_token_name that is refused is refused because it may be a secret token.
    redact: secret ? ['name', 'ca_cert', 'join_token_name'] : ['ca_cert', 'join_token_name'],
    locate: context.locate,
  });
}

/**
 * Checks one resource (already read from YAML or JSON) against the schema of its kind and version.
 *
 * @param source names the input in errors (a file name, `request body`).
 * @param locate where the value at a path was written (`line 12`), for errors about a resource read
 *   from a file (see `parseResources`).
 * @throws ConfigError `invalid_resource` naming the kind and name, the path of each bad field, its
 *   value and what to write instead. Unknown kinds and versions list the supported ones.
 * @example
 * const role = parseResource({ kind: 'role', version: 'v7', metadata: { name: 'ops' }, spec: {} });
 */
export function parseResource(
  doc: unknown,
  source?: string,
  locate?: (path: readonly PropertyKey[]) => string | undefined,
): Resource {
  return parseAt(doc, { source, locate });
}
