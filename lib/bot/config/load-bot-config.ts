import path from 'node:path';
import * as z from 'zod';
import { formatDuration } from '../../core/duration.js';
import { ConfigError } from '../../core/errors.js';
import { formatPath, parseWithSchema } from '../../core/schema.js';
import {
  absolutePathSchema,
  authServerSchema,
  type BotConfig,
  caPinSchema,
  durationSchema,
  joinMethodSchema,
  type OnboardingConfig,
  renewalIntervalSchema,
  tokenSchema,
} from './bot-config.js';
import { type LoadedBotConfig, readConfigDocument } from './config-document.js';
import {
  DEFAULT_CERTIFICATE_TTL_MS,
  DEFAULT_RENEWAL_INTERVAL_MS,
  findConfigProblems,
  findRenewalProblem,
  type RenewalNames,
} from './config-rules.js';
import { parseConfigJson } from './parse-config-json.js';
import { parseConfigYaml } from './parse-config-yaml.js';
import { parseV2Config } from './parse-v2-config.js';

export type { LoadedBotConfig } from './config-document.js';

/**
 * The `midbot start` flags of the getting-started guide:
 * `--data-dir D --destination-dir O --token T --join-method token --ca-pin P --auth-server A [--oneshot]`.
 */
export interface BotConfigFlags {
  readonly dataDir?: string;
  readonly destinationDir?: string;
  readonly token?: string;
  readonly joinMethod?: string;
  readonly caPins?: readonly string[];
  readonly authServer?: string;
  readonly oneshot?: boolean;
  readonly certificateTtl?: string;
  readonly renewalInterval?: string;
}

export interface FlagOptions {
  /** Relative `--data-dir` / `--destination-dir` resolve against this. @default process.cwd() */
  readonly cwd?: string;
}

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
  return readConfigDocument(parseConfigJson(text, source) ?? parseConfigYaml(text, source), source);
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
  const checked = checkFlags(flags, options);
  const joinMethod = checked.join_method ?? 'token';
  const missing = [
    checked.auth_server === undefined
      ? '--auth-server is required without a config file (-c): give the auth service address, e.g. --auth-server=auth.example.com:443'
      : undefined,
    checked.token === undefined && joinMethod === 'iam'
      ? '--token is required with --join-method iam: give the name of the iam join token'
      : undefined,
    checked.token === undefined && joinMethod === 'token' && checked.data_dir === undefined
      ? '--token is required without --data-dir: midbot then keeps its identity in memory and joins on every start; pass the token printed by `midctl bots add` (with --data-dir, a restart renews the stored identity without it)'
      : undefined,
  ].filter((problem) => problem !== undefined);
  if (missing.length > 0) throw new ConfigError('invalid_config', missing.join('; '));
  if (checked.ca_pins === undefined || checked.ca_pins.length === 0) {
    throw new ConfigError(
      'invalid_config',
      '--ca-pin is required: midbot only joins a cluster it can authenticate; copy the pin printed by `midctl bots add`',
    );
  }
  // Before the schema does it, so that the message names the flags rather than the config keys.
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
    storage:
      checked.data_dir === undefined ? { type: 'memory' } : { type: 'directory', path: checked.data_dir },
    outputs:
      checked.destination_dir === undefined
        ? []
        : [{ type: 'identity', destination: { type: 'directory', path: checked.destination_dir } }],
    ...(flags.certificateTtl === undefined ? {} : { certificate_ttl: flags.certificateTtl }),
    ...(flags.renewalInterval === undefined ? {} : { renewal_interval: flags.renewalInterval }),
    ...(flags.oneshot === undefined ? {} : { oneshot: flags.oneshot }),
  };
  return parseV2Config(raw, 'flags');
}

/**
 * Applies `midbot start` flags over a config file's values (flags win). `--destination-dir` replaces
 * the file's outputs with one identity output, as tbot does, and says so in a warning.
 */
export function mergeFlags(
  config: BotConfig,
  flags: BotConfigFlags,
  options: FlagOptions = {},
): LoadedBotConfig {
  const checked = checkFlags(flags, options);
  const warnings: string[] = [];
  // Checked below: an iam onboarding without a token is refused.
  const onboarding = {
    ...config.onboarding,
    ...(checked.join_method === undefined ? {} : { join_method: checked.join_method }),
    ...(checked.token === undefined ? {} : { token: checked.token }),
    ...(checked.ca_pins === undefined ? {} : { ca_pins: checked.ca_pins }),
  } as OnboardingConfig;
  let outputs = config.outputs;
  if (checked.destination_dir !== undefined) {
    if (config.outputs.length > 0) {
      warnings.push(
        `--destination-dir ${checked.destination_dir} replaces the ${config.outputs.length} output(s) of the config file with one identity output`,
      );
    }
    outputs = [{ type: 'identity', destination: { type: 'directory', path: checked.destination_dir } }];
  }
  const merged: BotConfig = {
    ...config,
    ...(checked.auth_server === undefined ? {} : { auth_server: checked.auth_server }),
    onboarding,
    ...(checked.data_dir === undefined ? {} : { storage: { type: 'directory', path: checked.data_dir } }),
    outputs,
    ...(checked.certificate_ttl === undefined ? {} : { certificate_ttl: checked.certificate_ttl }),
    ...(checked.renewal_interval === undefined ? {} : { renewal_interval: checked.renewal_interval }),
    ...(flags.oneshot === undefined ? {} : { oneshot: flags.oneshot }),
  };
  const problems: string[] = [];
  const renewal = findRenewalProblem(merged, {
    renewal_interval: flags.renewalInterval === undefined ? 'renewal_interval' : '--renewal-interval',
    certificate_ttl: flags.certificateTtl === undefined ? 'certificate_ttl' : '--certificate-ttl',
  });
  if (renewal !== undefined) problems.push(describeRenewalProblem(renewal, flags, merged));
  if (merged.onboarding.join_method === 'iam' && merged.onboarding.token === undefined) {
    problems.push(
      '--join-method iam needs the name of the iam join token: pass --token or set onboarding.token',
    );
  }
  for (const problem of findConfigProblems(merged)) {
    if (problem.path[0] === 'renewal_interval' || problem.path[0] === 'certificate_ttl') continue;
    problems.push(`flags and config file: ${formatPath(problem.path)}: ${problem.message}`);
  }
  if (problems.length > 0) throw new ConfigError('invalid_config', problems.join('; '));
  return { config: merged, warnings };
}

/**
 * `NAME: got VALUE, MESSAGE` for the renewal rule, naming the flag when the value came from one (as
 * typed), and the config key with its value otherwise.
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

/** Each flag through its field's schema, so an error names the flag the user typed. */
function checkFlags(flags: BotConfigFlags, options: FlagOptions) {
  const cwd = options.cwd ?? process.cwd();
  const folder = (value: string | undefined, name: string) =>
    value === undefined ? undefined : parseFlag(absolutePathSchema, path.resolve(cwd, value), name);
  return {
    auth_server:
      flags.authServer === undefined
        ? undefined
        : parseFlag(authServerSchema, flags.authServer, '--auth-server'),
    token: flags.token === undefined ? undefined : parseTokenFlag(flags.token),
    join_method:
      flags.joinMethod === undefined
        ? undefined
        : parseFlag(joinMethodSchema, flags.joinMethod, '--join-method'),
    ca_pins: flags.caPins?.map((pin) => parseFlag(caPinSchema, pin, '--ca-pin')),
    data_dir: folder(flags.dataDir, '--data-dir'),
    destination_dir: folder(flags.destinationDir, '--destination-dir'),
    certificate_ttl:
      flags.certificateTtl === undefined
        ? undefined
        : parseFlag(durationSchema, flags.certificateTtl, '--certificate-ttl'),
    renewal_interval:
      flags.renewalInterval === undefined
        ? undefined
        : parseFlag(renewalIntervalSchema, flags.renewalInterval, '--renewal-interval'),
  };
}

function parseFlag<S extends z.ZodType>(schema: S, value: string, name: string): z.output<S> {
  return parseWithSchema(schema, value, {
    code: 'invalid_config',
    error: (code, message) => new ConfigError(code, message),
    root: name,
  });
}

/** Wrapped in an object only so that `redact` hides the value; the error names the flag. */
function parseTokenFlag(token: string): string {
  return parseWithSchema(
    z.strictObject({ token: tokenSchema }),
    { token },
    {
      code: 'invalid_config',
      redact: ['token', 'onboarding'],
      error: (code, message) => new ConfigError(code, message.replace(/^token:/, '--token:')),
    },
  ).token;
}
