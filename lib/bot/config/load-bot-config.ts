import { formatDuration } from '../../core/duration.js';
import { ConfigError } from '../../core/errors.js';
import type { Locate } from '../../core/yaml-locator.js';
import type { BotConfig, OutputConfig } from './bot-config.js';
import { configVersionOf, type LoadedBotConfig, readConfigDocument } from './config-document.js';
import {
  DEFAULT_CERTIFICATE_TTL_MS,
  DEFAULT_RENEWAL_INTERVAL_MS,
  findRenewalProblem,
  type RenewalNames,
} from './config-rules.js';
import type { ConfigText } from './config-text.js';
import { convertLegacyConfig } from './legacy-config.js';
import { parseConfigJson } from './parse-config-json.js';
import { parseConfigYaml } from './parse-config-yaml.js';
import { checkV2ConfigParts } from './parse-v2-config.js';
import {
  type BotConfigFlags,
  checkConfigWithFlags,
  checkStartFlags,
  type FlagOptions,
} from './start-flags.js';

export type { LoadedBotConfig } from './config-document.js';

/**
 * Reads a midbot config file (v2, or the v1 shape with a warning), in YAML or in JSON (JSON is read
 * without the YAML parser but as strictly). `source` names the file in errors.
 *
 * @throws ConfigError `invalid_config` naming the file, the key path, the value (never the token) and
 *   the fix, e.g. `outputs[0].type: got "app", expected one of identity, application, kubernetes, ssh_host`.
 *
 * @example
 * const { config, warnings } = loadBotConfig(await readFile('/etc/midbot.yaml', 'utf8'), '/etc/midbot.yaml');
 */
export function loadBotConfig(text: string, source: string): LoadedBotConfig {
  return readConfigDocument(readConfigText(text, source), source);
}

/** A config file's text read as JSON when it is a JSON object, as YAML otherwise. */
function readConfigText(text: string, source: string): ConfigText {
  const json = parseConfigJson(text, source);
  return json === undefined ? parseConfigYaml(text, source) : { document: json };
}

/**
 * The outputs of a config file, which may leave the keys `midbot start` flags give out: what
 * `midbot init -c FILE` needs. Each key the file holds is still checked (a v1 file whole).
 */
export function loadConfigOutputs(text: string, source: string): OutputConfig[] {
  const { document, locate } = readConfigText(text, source);
  const { version, record } = configVersionOf(document, source);
  if (version === 'v1') return convertLegacyConfig(record, source, locate).config.outputs;
  return checkV2ConfigParts(record, source, locate).outputs ?? [];
}

const FLAG_NAMES: RenewalNames = {
  renewal_interval: '--renewal-interval',
  certificate_ttl: '--certificate-ttl',
};

/**
 * The same `BotConfig` from `midbot start` flags alone: one identity output to `--destination-dir`
 * (none without it) and directory storage at `--data-dir` (memory storage without it, which suits
 * `--oneshot`; a long-running bot without a data dir must join again after a restart). `--token` may
 * be left out with `--data-dir` (token join method): a restart renews what storage holds, and the agent
 * says so when it would have to join instead.
 */
export function configFromFlags(flags: BotConfigFlags, options: FlagOptions = {}): BotConfig {
  const checked = checkStartFlags(flags, options);
  const joinMethod = checked.join_method ?? 'token';
  const missing = [
    checked.auth_server === undefined
      ? '--auth-server is required without a config file (-c): give the auth service address, e.g. --auth-server=auth.example.com:443'
      : undefined,
    checked.token === undefined && joinMethod === 'iam'
      ? '--token is required with --join-method iam: give the name of the iam join token'
      : undefined,
    checked.token === undefined && joinMethod === 'token' && checked.storage?.type !== 'directory'
      ? '--token is required without --data-dir (or --storage file:///PATH): midbot then keeps its identity in memory and joins on every start; pass the token printed by `midctl bots add` (with --data-dir, a restart renews the stored identity without it)'
      : undefined,
  ].filter((problem) => problem !== undefined);
  if (missing.length > 0) throw new ConfigError('invalid_config', missing.join('; '));
  if (checked.ca_pins === undefined || checked.ca_pins.length === 0) {
    throw new ConfigError(
      'invalid_config',
      '--ca-pin is required: midbot only joins a cluster it can authenticate; copy the pin printed by `midctl bots add`',
    );
  }
  // Before the schema does it, so that the message says which value was the default.
  const times = {
    renewal_interval: checked.renewal_interval ?? DEFAULT_RENEWAL_INTERVAL_MS,
    certificate_ttl: checked.certificate_ttl ?? DEFAULT_CERTIFICATE_TTL_MS,
  };
  const renewal = findRenewalProblem(times, FLAG_NAMES);
  if (renewal !== undefined) {
    throw new ConfigError('invalid_config', describeRenewalProblem(renewal, flags, times));
  }
  const raw = {
    version: 'v2',
    auth_server: checked.auth_server,
    onboarding: {
      join_method: joinMethod,
      ...(checked.token === undefined ? {} : { token: checked.token }),
      ca_pins: checked.ca_pins,
    },
    storage: checked.storage ?? { type: 'memory' },
    outputs: [
      ...(checked.destination_dir === undefined
        ? []
        : [{ type: 'identity', destination: { type: 'directory', path: checked.destination_dir } }]),
      ...(flags.output === undefined ? [] : [flags.output]),
    ],
    ...(flags.certificateTtl === undefined ? {} : { certificate_ttl: flags.certificateTtl }),
    ...(flags.renewalInterval === undefined ? {} : { renewal_interval: flags.renewalInterval }),
    ...(flags.oneshot === undefined ? {} : { oneshot: flags.oneshot }),
    ...(checked.diag_addr === undefined ? {} : { diag_addr: checked.diag_addr }),
  };
  return checkConfigWithFlags(raw, flags);
}

/**
 * `midbot start -c FILE` with flags. Each key of the file is checked as written and each flag as
 * typed; then the flags' values go in (a flag wins over the file's key, and fills in a key the file
 * leaves out), and the result is checked once as a whole: the keys it requires and the rules across
 * keys. A message names the file and the key for a value from the file, and the flag for a value from
 * a flag. `--destination-dir` replaces the file's outputs with one identity output, as tbot does, and
 * says so in a warning.
 *
 * A v1 file is converted first, so it must hold every required key itself.
 *
 * @throws ConfigError `invalid_config`
 */
export function loadBotConfigWithFlags(
  text: string,
  source: string,
  flags: BotConfigFlags,
  options: FlagOptions = {},
): LoadedBotConfig {
  const file = readFileKeys(readConfigText(text, source), source);
  const checked = checkStartFlags(flags, options);
  const warnings = [...file.warnings];
  const document: Record<string, unknown> = { ...file.document };
  if (checked.auth_server !== undefined) document['auth_server'] = checked.auth_server;
  if (checked.join_method !== undefined || checked.token !== undefined || checked.ca_pins !== undefined) {
    const fromFile = document['onboarding'] as Record<string, unknown> | undefined;
    document['onboarding'] = {
      ...fromFile,
      // With the token from a flag, the token method unless the file or --join-method says otherwise,
      // as with flags alone. (A file's own iam token name never turns into a token join this way.)
      ...(checked.join_method !== undefined ||
      fromFile?.['join_method'] !== undefined ||
      checked.token !== undefined
        ? { join_method: checked.join_method ?? fromFile?.['join_method'] ?? 'token' }
        : {}),
      ...(checked.token === undefined ? {} : { token: checked.token }),
      ...(checked.ca_pins === undefined ? {} : { ca_pins: checked.ca_pins }),
    };
  }
  if (checked.storage !== undefined) document['storage'] = checked.storage;
  if (checked.destination_dir !== undefined) {
    const replaced = Array.isArray(document['outputs']) ? document['outputs'].length : 0;
    if (replaced > 0) {
      warnings.push(
        `--destination-dir ${checked.destination_dir} replaces the ${replaced} output(s) of the config file with one identity output`,
      );
    }
    document['outputs'] = [
      { type: 'identity', destination: { type: 'directory', path: checked.destination_dir } },
    ];
  }
  if (flags.output !== undefined) {
    // A mode adds its output to the file's, as tbot's do.
    const outputs: unknown[] = Array.isArray(document['outputs']) ? document['outputs'] : [];
    document['outputs'] = [...outputs, flags.output];
  }
  // As typed, so that a message about them shows what the user wrote.
  if (flags.certificateTtl !== undefined) {
    document['certificate_ttl'] = flags.certificateTtl;
    // The same setting under tbot v2's name, which the flag replaces as it does certificate_ttl.
    delete document['credential_ttl'];
  }
  if (flags.renewalInterval !== undefined) document['renewal_interval'] = flags.renewalInterval;
  if (flags.oneshot !== undefined) document['oneshot'] = flags.oneshot;
  if (checked.diag_addr !== undefined) document['diag_addr'] = checked.diag_addr;
  return { config: checkConfigWithFlags(document, flags, source, file.locate), warnings };
}

/**
 * A file's keys, each checked on its own; a v1 file converted (it is checked whole, and its lines no
 * longer match the converted keys).
 */
function readFileKeys(
  { document, locate }: ConfigText,
  source: string,
): { document: Record<string, unknown>; warnings: string[]; locate?: Locate | undefined } {
  const { version, record } = configVersionOf(document, source);
  if (version === 'v1') {
    const { config, warnings } = convertLegacyConfig(record, source, locate);
    return { document: configDocument(config), warnings };
  }
  checkV2ConfigParts(record, source, locate);
  return { document: record, warnings: [], locate };
}

/** A checked config written back as the document it was read from (durations as text again). */
function configDocument(config: BotConfig): Record<string, unknown> {
  return {
    ...config,
    certificate_ttl: formatDuration(config.certificate_ttl),
    renewal_interval: formatDuration(config.renewal_interval),
  };
}

/**
 * `NAME: got VALUE, MESSAGE` for the renewal rule, naming the flag when the value came from one (as
 * typed), and the default otherwise.
 */
function describeRenewalProblem(
  problem: NonNullable<ReturnType<typeof findRenewalProblem>>,
  flags: BotConfigFlags,
  config: Pick<BotConfig, 'renewal_interval' | 'certificate_ttl'>,
): string {
  const typed = problem.field === 'renewal_interval' ? flags.renewalInterval : flags.certificateTtl;
  return typed === undefined
    ? `${problem.field}: got ${formatDuration(config[problem.field])}, ${problem.message}`
    : `${FLAG_NAMES[problem.field]}: got ${JSON.stringify(typed)}, ${problem.message}`;
}
