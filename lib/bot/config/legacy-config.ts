import * as z from 'zod';
import { builtOnFirstUse } from '../../core/built-on-first-use.js';
import { formatDuration } from '../../core/duration.js';
import { ConfigError } from '../../core/errors.js';
import { formatPath, parseWithSchema } from '../../core/schema.js';
import type { Locate } from '../../core/yaml-locator.js';
import { toYamlText } from '../../core/yaml-text.js';
import {
  type BotConfig,
  durationSchema,
  nameSchema,
  type OutputConfig,
  renewalIntervalSchema,
} from './bot-config.js';
import { absolutePathSchema } from './config-fields.js';
import {
  CONFIG_KEYS,
  type ConfigNames,
  DEFAULT_CERTIFICATE_TTL_MS,
  DEFAULT_RENEWAL_INTERVAL_MS,
  findConfigProblems,
} from './config-rules.js';
import { locateHeldValues } from './config-text.js';
import { outputsYamlData } from './config-yaml.js';
import { authServerSchema, onboardingSchema } from './onboarding-config.js';

/** The folders as a v1 file names them, for the rules across keys. */
const LEGACY_KEYS: ConfigNames = {
  ...CONFIG_KEYS,
  'storage.path': 'storage.directory',
  outputFolder: (index) => `destinations[${index}].directory`,
};

/**
 * tbot's v1 config, as the Kubernetes guide still shows it:
 *
 * ```yaml
 * storage:
 *   directory: /var/lib/teleport/bot
 * destinations:
 *   - directory: /opt/machine-id
 *     kubernetes_cluster: example-k8s-cluster
 * ```
 *
 * It is converted to v2 (each destination becomes an output) with a warning that shows the v2 text.
 * Its schemas are built on first use: a v1 file is rare, and the bot Lambda, whose config the
 * MachineIdBot construct writes as v2, never needs them.
 */

const legacyDirectorySchema = builtOnFirstUse(() =>
  z.union([absolutePathSchema, z.strictObject({ path: absolutePathSchema })], {
    error: () => 'expected a folder path such as /opt/machine-id',
  }),
);

const legacyDestinationSchema = builtOnFirstUse(() =>
  z.strictObject(
    {
      directory: legacyDirectorySchema,
      kubernetes_cluster: nameSchema('the Kubernetes cluster name').optional(),
      app: nameSchema('the app name').optional(),
      roles: z.array(nameSchema('a role name')).optional(),
    },
    {
      error: (issue) =>
        issue.code === 'invalid_type' ? 'expected a mapping with directory: PATH' : undefined,
    },
  ),
);

const legacyStorageSchema = builtOnFirstUse(() =>
  z.union(
    [z.strictObject({ directory: legacyDirectorySchema }), z.strictObject({ memory: z.literal(true) })],
    { error: () => 'expected directory: PATH or memory: true' },
  ),
);

export const legacyConfigSchema = builtOnFirstUse(() =>
  z.strictObject({
    version: z.literal('v1', { error: () => 'expected v1 or v2' }).optional(),
    auth_server: authServerSchema,
    onboarding: onboardingSchema,
    storage: legacyStorageSchema,
    destinations: z
      .array(legacyDestinationSchema, { error: () => 'expected a list of destinations' })
      .default([]),
    certificate_ttl: durationSchema.default(DEFAULT_CERTIFICATE_TTL_MS),
    renewal_interval: renewalIntervalSchema.default(DEFAULT_RENEWAL_INTERVAL_MS),
    oneshot: z.boolean({ error: () => 'expected true or false' }).default(false),
    debug: z.boolean({ error: () => 'expected true or false' }).optional(),
  }),
);

type LegacyDestination = z.output<typeof legacyDestinationSchema>;

/** Parses a v1 document (already read from YAML) into the v2 `BotConfig`, with a conversion warning. */
export function convertLegacyConfig(
  input: unknown,
  source: string,
  locate?: Locate,
): { config: BotConfig; warnings: string[] } {
  const legacy = parseWithSchema(legacyConfigSchema, input, {
    locate: locateHeldValues(input, locate),
    code: 'invalid_config',
    redact: ['token', 'onboarding'],
    error: (code, message) => new ConfigError(code, `${source}: ${message}`),
  });

  const storage: BotConfig['storage'] =
    'memory' in legacy.storage
      ? { type: 'memory' }
      : { type: 'directory', path: folder(legacy.storage.directory) };

  const outputs = legacy.destinations.map((destination, index) => toOutput(destination, index, source));

  const config: BotConfig = {
    version: 'v2',
    auth_server: legacy.auth_server,
    onboarding: legacy.onboarding,
    storage,
    outputs,
    certificate_ttl: legacy.certificate_ttl,
    renewal_interval: legacy.renewal_interval,
    oneshot: legacy.oneshot,
    ...(legacy.debug === undefined ? {} : { debug: legacy.debug }),
  };

  const problems = findConfigProblems(config, LEGACY_KEYS).map((problem) => {
    // Name the key the user wrote, not the v2 key it became.
    const [first, index] = problem.path;
    const where =
      first === 'outputs' && typeof index === 'number'
        ? `destinations[${index}].directory`
        : first === 'storage'
          ? LEGACY_KEYS['storage.path']
          : formatPath(problem.path);
    // The renewal rule's message reads after the value, as the schema shows it.
    const value =
      first === 'renewal_interval' || first === 'certificate_ttl'
        ? `got ${formatDuration(config[first])}, `
        : '';
    return `${where}: ${value}${problem.message}`;
  });
  if (problems.length > 0) {
    throw new ConfigError('invalid_config', `${source}: ${problems.join('; ')}`);
  }

  return { config, warnings: [legacyWarning(source, config)] };
}

function toOutput(destination: LegacyDestination, index: number, source: string): OutputConfig {
  const common = {
    destination: { type: 'directory' as const, path: folder(destination.directory) },
    ...(destination.roles ? { roles: destination.roles } : {}),
  };
  if (destination.kubernetes_cluster !== undefined && destination.app !== undefined) {
    throw new ConfigError(
      'invalid_config',
      `${source}: destinations[${index}]: has both kubernetes_cluster and app; a destination makes one kind of output, split it into two destinations with their own folders`,
    );
  }
  if (destination.kubernetes_cluster !== undefined) {
    return { type: 'kubernetes', ...common, kubernetes_cluster: destination.kubernetes_cluster };
  }
  if (destination.app !== undefined) {
    return { type: 'application', ...common, app_name: destination.app, specific_tls_naming: false };
  }
  return { type: 'identity', ...common };
}

function folder(value: z.output<typeof legacyDirectorySchema>): string {
  return typeof value === 'string' ? value : value.path;
}

/** What the conversion warning says first (after the file's name): `midbot configure` replaces it. */
export const V1_SHAPE_WARNING = 'this file uses the v1 config shape (storage.directory, destinations)';

/** The warning shows the v2 text for the parts that changed; the rest of the file stays as it is. */
function legacyWarning(source: string, config: BotConfig): string {
  const v2 = toYamlText({
    version: 'v2',
    storage: config.storage,
    outputs: outputsYamlData(config.outputs),
  }).trimEnd();
  return [
    `${source}: ${V1_SHAPE_WARNING}, which midbot converts for now.`,
    'Write it as v2: add `version: v2` and replace `storage` and `destinations` with:',
    v2,
    '(auth_server, onboarding and the other keys stay as they are.)',
  ].join('\n');
}
