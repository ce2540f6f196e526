import { isUtf8 } from 'node:buffer';
import { MAX_RESOURCES_PER_PUT } from '../../api/admin.js';
import { nameSegmentsOf } from '../../api/resource-kinds.js';
import type { OutputFormat } from '../../cli/output-format.js';
import { formatDuration } from '../../core/duration.js';
import { ConfigError, MidError } from '../../core/errors.js';
import { type ReadProblem, readProblemOf, readSmallFileBytes } from '../../core/read-small-file.js';
import { parseResource, type Resource } from '../../resources/resource.js';
import { describeResource, findRepeatedResource } from '../../resources/resource-identity.js';
import { roleNotices } from '../../resources/role-notices.js';
import { type TokenBotState, tokenLifetimeProblem } from '../../resources/token-lifetime.js';
import {
  MAX_YAML_BYTES,
  readYamlDocuments,
  toYamlDocuments,
  type YamlDocument,
} from '../../resources/yaml-documents.js';
import type { AdminApi, ResourceJson } from '../admin-api.js';
import { PRINCIPAL_COUNT_KINDS, principalLimitWarnings, warningLines } from '../principal-limit-warnings.js';
import { parseResourceReference } from '../resource-reference.js';
import { renderResourceTable, textTableKind } from '../resource-table.js';
import { botRemovalNote, instanceRemovalNote } from '../running-agent-notes.js';

/**
 * The text of `-f FILE` (`-` reads standard input): at most {@link MAX_YAML_BYTES}, from a regular file
 * (a device or a FIFO would fill the memory or hang), UTF-8 text.
 */
function readInput(file: string, readStdin: () => string): string {
  const tooLarge = `is over the ${MAX_YAML_BYTES / 1024 / 1024} MiB limit for a YAML file; split it into smaller files`;
  if (file === '-') {
    try {
      return readStdin();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EFBIG') throw error;
      throw new ConfigError('invalid_yaml', `-f -: standard input ${tooLarge}`);
    }
  }
  let bytes: Buffer;
  try {
    bytes = readSmallFileBytes(file, MAX_YAML_BYTES);
  } catch (error) {
    const problem = readProblemOf(error);
    const why: Record<ReadProblem, string> = {
      missing: 'no such file',
      folder: 'that is a folder; pass a YAML file, or - to read standard input',
      not_regular:
        'that is not a regular file (a device, a FIFO or a socket); pass a YAML file, or - to read standard input (midctl create -f - < FILE)',
      too_large: tooLarge,
      other:
        (error as NodeJS.ErrnoException).code === 'EACCES'
          ? 'permission denied; run midctl as a user that may read it'
          : (error as Error).message,
    };
    throw new ConfigError(
      problem === 'too_large' ? 'invalid_yaml' : 'unreadable_file',
      `-f ${file}: ${why[problem]}`,
    );
  }
  if (!isUtf8(bytes)) {
    throw new ConfigError(
      'invalid_yaml',
      `-f ${file}: this is not a text file (it holds bytes that are not UTF-8 text); pass a YAML file`,
    );
  }
  return bytes.toString('utf8');
}

/** The same kind and name twice in one file is refused before anything is applied. */
function refuseDuplicateResources(
  resources: readonly Resource[],
  documents: readonly YamlDocument[],
  where: (index: number) => string,
): void {
  const repeated = findRepeatedResource(resources);
  if (repeated === undefined) return;
  const { index, first, resource } = repeated;
  throw new ConfigError(
    'duplicate_resource',
    `${where(index)} (line ${documents[index]?.line}): ${describeResource(resource)} is also document ${first + 1} (line ${documents[first]?.line}); keep one of them`,
  );
}

/**
 * A table saved from `midctl get --format text` is refused like any file that holds no resource; the
 * refusal adds how to export YAML instead, since a saved table is most likely an export gone wrong.
 */
function explainTextTable(error: unknown, text: string): unknown {
  const kind = textTableKind(text);
  if (kind === undefined || !(error instanceof MidError)) return error;
  return new ConfigError(
    error.code,
    `${error.message}; this looks like \`midctl get\` text output, not YAML: export with \`midctl get ${kind}s --format yaml\` (or ${kind}/NAME for one), which create -f reads back`,
    { cause: error },
  );
}

/**
 * Reads every document as a resource, with line numbers in errors; the same resource twice is refused.
 * A refused file that is a table saved from `midctl get --format text` gets a hint on how to export YAML.
 */
function readResources(
  text: string,
  source: string,
): { documents: YamlDocument[]; resources: Resource[]; where: (index: number) => string } {
  try {
    const documents = readYamlDocuments(text, source);
    if (documents.length === 0) throw new ConfigError('empty_file', `${source} holds no resources`);
    if (documents.length > MAX_RESOURCES_PER_PUT) {
      throw new ConfigError(
        'too_many_resources',
        `${source} holds ${documents.length} resources, more than the ${MAX_RESOURCES_PER_PUT} one create applies (whole or not at all); split it into files of at most ${MAX_RESOURCES_PER_PUT}`,
      );
    }
    const where = (index: number) => (documents.length > 1 ? `${source} document ${index + 1}` : source);
    const resources = documents.map((document, index) =>
      parseResource(document.value, where(index), document.locate),
    );
    refuseDuplicateResources(resources, documents, where);
    return { documents, resources, where };
  } catch (error) {
    throw explainTextTable(error, text);
  }
}

/** Whether the bot a token names exists, for a refusal whose way to a new token has to work. */
async function tokenBotState(
  api: AdminApi,
  botName: string,
  resources: readonly Resource[],
): Promise<TokenBotState> {
  if (resources.some((resource) => resource.kind === 'bot' && resource.metadata.name === botName))
    return 'in_same_file';
  try {
    await api.getResources('bot', botName);
    return 'exists';
  } catch (error) {
    if (error instanceof MidError && error.code === 'bot_not_found') return 'absent';
    throw error;
  }
}

/**
 * The lifetime rule the service applies to tokens, checked here first so that a refusal names the
 * file and the line of `metadata.expires`, as the schema's refusals do. The service checks again,
 * on its own clock.
 */
async function refuseTokenLifetimes(
  api: AdminApi,
  { documents, resources, where }: ReturnType<typeof readResources>,
  now: number,
): Promise<void> {
  for (const [index, resource] of resources.entries()) {
    if (resource.kind !== 'token') continue;
    const problem = tokenLifetimeProblem(resource, now);
    if (problem === undefined) continue;
    const line = documents[index]?.locate(['metadata', 'expires']);
    const bot = await tokenBotState(api, resource.spec.bot_name, resources);
    throw new ConfigError(
      problem.code,
      `${where(index)}: ${describeResource(resource)}: metadata.expires${line === undefined ? '' : ` (${line})`}: ${problem.describe(bot)}`,
    );
  }
}

/** The resources of `create -f FILE`, read and checked before the service is asked anything. */
export interface CreateInput extends ReturnType<typeof readResources> {
  readonly file: string;
}

/**
 * Reads `-f FILE` (`-`: standard input) and checks every document locally, with line numbers: a file
 * that cannot be applied is refused without a service to ask.
 */
export function readCreateInput(file: string, readStdin: () => string): CreateInput {
  const source = file === '-' ? '(stdin)' : file;
  return { file, ...readResources(readInput(file, readStdin), source) };
}

/** `midctl create -f FILE [--force]`: the resources `readCreateInput` read, checked again by the service. */
export async function createResources(
  api: AdminApi,
  read: CreateInput,
  force: boolean,
  now: number,
): Promise<string> {
  const { documents, resources } = read;
  await refuseTokenLifetimes(api, read, now);
  const { results } = await api
    .putResources(
      documents.map((document) => document.value),
      force,
    )
    .catch((error: unknown) => {
      throw explainAlreadyExists(error, read.file);
    });
  // The service answers in the file's order; a token-method token's name (its secret) is not printed.
  const created = results.map((result, index) => {
    const resource = resources[index];
    const label = resource === undefined ? `${result.kind} "${result.name}"` : describeResource(resource);
    return `${label} has been ${result.action}\n`;
  });
  // Fields pasted from Teleport that nothing here enforces: said after the fact, so nobody counts on them.
  const notices = resources.flatMap((resource) => (resource.kind === 'role' ? roleNotices(resource) : []));
  const warnings = resources.some((resource) => PRINCIPAL_COUNT_KINDS.has(resource.kind))
    ? await principalLimitWarnings(api)
    : [];
  return [...created, ...notices.map((notice) => `NOTE: ${notice}\n`), warningLines(warnings)].join('');
}

/**
 * The command that replaces what exists. A tctl habit misleads here: `tctl create -f FILE` forces,
 * while midctl's `-f` names the file (as `--file`).
 */
function explainAlreadyExists(error: unknown, file: string): unknown {
  if (!(error instanceof MidError) || error.code !== 'already_exists') return error;
  return new ConfigError(
    error.code,
    `${error.message}: run \`midctl create --force -f ${file}\` (in midctl, -f names the file, as --file; tctl's -f is --force)`,
  );
}

const SINGULAR: Record<string, string> = {
  roles: 'role',
  bots: 'bot',
  tokens: 'token',
  apps: 'app',
  kube_clusters: 'kube_cluster',
  nodes: 'node',
  bot_instances: 'bot_instance',
};

/**
 * A list (`get KIND`, `bots ls`, `tokens ls`, `bots instances ls`): in JSON always an array, of none,
 * one or many, so a script reading it never has to check which shape it got.
 */
export function formatResources(
  kind: string,
  resources: readonly ResourceJson[],
  format: OutputFormat,
  now: number,
): string {
  if (format === 'json') return `${JSON.stringify(resources, null, 2)}\n`;
  if (format === 'yaml') return toYamlDocuments(resources);
  // `now` decides what the table shows as expired (tokens, bot instances).
  return renderResourceTable(SINGULAR[kind] ?? kind, resources, now);
}

/** One resource asked for by its full name (`get role/NAME`, `bots instances show BOT/ID`): in JSON the object itself. */
export function formatNamedResource(
  kind: string,
  resource: ResourceJson,
  format: OutputFormat,
  now: number,
): string {
  if (format === 'json') return `${JSON.stringify(resource, null, 2)}\n`;
  return formatResources(kind, [resource], format, now);
}

/** `midctl get KIND[/NAME[/ID]]`. */
export async function getResources(
  api: AdminApi,
  ref: string,
  format: OutputFormat,
  now: number,
): Promise<string> {
  const { kindText, kind, names } = parseResourceReference(ref, 'get');
  const resources = await api.getResources(kindText, ...names);
  const [named] = resources;
  if (names.length === nameSegmentsOf(kind) && resources.length === 1 && named !== undefined) {
    return formatNamedResource(kind, named, format, now);
  }
  return formatResources(kind, resources, format, now);
}

/** What removing a bot or an instance does to its agent still running (see running-agent-notes). */
function removalNote(api: AdminApi, kind: string, names: readonly string[], now: number) {
  const [name = '', id] = names;
  if (kind === 'bot') return botRemovalNote(api, name, now);
  if (kind === 'bot_instance' && id !== undefined) return instanceRemovalNote(api, name, id, now);
  return Promise.resolve(undefined);
}

/** `midctl rm KIND/NAME`. */
export async function removeResource(api: AdminApi, ref: string, now: number): Promise<string> {
  const { kindText, kind, names } = parseResourceReference(ref, 'rm');
  const note = await removalNote(api, kind, names, now);
  await api.deleteResource(kindText, ...names);
  const noteLine = note === undefined ? '' : `NOTE: ${note}\n`;
  // The name of a token may be its secret: it was typed, but it need not be printed back into a log.
  if (kind === 'token') return 'token (name hidden) has been deleted\n';
  return `${kind} "${names.join('/')}" has been deleted\n${noteLine}`;
}

export function describeTtl(expires: string | undefined, now: number): string {
  if (expires === undefined) return 'never expires';
  // Whole seconds: the milliseconds between issuing and printing are noise ("1h", not "59m59s966ms").
  return `expires in ${formatDuration(Math.max(0, Math.round((Date.parse(expires) - now) / 1000) * 1000))}`;
}
