import path from 'node:path';
import * as z from 'zod';
import { ConfigError } from '../../core/errors.js';
import { formatPath, parseWithSchema, valueAt } from '../../core/schema.js';
import type { Locate } from '../../core/yaml-locator.js';
import {
  type BotConfig,
  botConfigSchemaNaming,
  diagAddrSchema,
  durationSchema,
  type OutputConfig,
  renewalIntervalSchema,
} from './bot-config.js';
import { absolutePathSchema } from './config-fields.js';
import { CONFIG_KEYS, type ConfigNames } from './config-rules.js';
import { locateHeldValues } from './config-text.js';
import { storageFromUri } from './destination-uri.js';
import { authServerSchema, caPinSchema, joinMethodSchema, tokenSchema } from './onboarding-config.js';

/**
 * The `midbot start` flags of the getting-started guide:
 * `--data-dir D --destination-dir O --token T --join-method token --ca-pin P --auth-server A [--oneshot]`.
 */
export interface BotConfigFlags {
  readonly dataDir?: string;
  readonly destinationDir?: string;
  readonly token?: string;
  /** How the token was given, for messages: `--token` (the default) or `MID_BOT_TOKEN`. */
  readonly tokenName?: string;
  readonly joinMethod?: string;
  readonly caPins?: readonly string[];
  readonly authServer?: string;
  readonly oneshot?: boolean;
  readonly certificateTtl?: string;
  readonly renewalInterval?: string;
  readonly diagAddr?: string;
  /** tbot's `--storage URI` (`file:///var/lib/midbot` or `memory://`): `--data-dir` the tbot 16 way. */
  readonly storage?: string;
  /**
   * The output of a mode (`midbot start identity --destination ...`, see `start-modes.ts`), checked
   * already: added after the outputs of `-c` and `--destination-dir`.
   */
  readonly output?: OutputConfig;
}

export interface FlagOptions {
  /** Relative `--data-dir` / `--destination-dir` resolve against this. @default process.cwd() */
  readonly cwd?: string;
}

/**
 * Which config key each flag sets, so that a message names the flag when the value came from one.
 * `--data-dir` sets all of `storage` and `--destination-dir` all of `outputs`.
 */
export const START_FLAG_KEYS = [
  { flag: '--auth-server', option: 'authServer', path: ['auth_server'] },
  { flag: '--join-method', option: 'joinMethod', path: ['onboarding', 'join_method'] },
  { flag: '--token', option: 'token', path: ['onboarding', 'token'] },
  { flag: '--ca-pin', option: 'caPins', path: ['onboarding', 'ca_pins'] },
  { flag: '--data-dir', option: 'dataDir', path: ['storage'] },
  { flag: '--storage', option: 'storage', path: ['storage'] },
  { flag: '--destination-dir', option: 'destinationDir', path: ['outputs'] },
  { flag: '--certificate-ttl', option: 'certificateTtl', path: ['certificate_ttl'] },
  { flag: '--renewal-interval', option: 'renewalInterval', path: ['renewal_interval'] },
  { flag: '--oneshot', option: 'oneshot', path: ['oneshot'] },
  { flag: '--diag-addr', option: 'diagAddr', path: ['diag_addr'] },
] as const satisfies ReadonlyArray<{ flag: string; option: keyof BotConfigFlags; path: readonly string[] }>;

/** Whether `path` is `outer` or a key inside it. */
function isWithin(path: readonly PropertyKey[], outer: readonly PropertyKey[]): boolean {
  return outer.every((key, index) => path[index] === key);
}

/** Each flag through its field's schema, so an error names the flag the user typed. */
export function checkStartFlags(flags: BotConfigFlags, options: FlagOptions = {}) {
  const cwd = options.cwd ?? process.cwd();
  const folder = (value: string | undefined, name: string) => {
    if (value === undefined) return undefined;
    // Resolved, an empty value would be the working directory itself.
    if (value.trim() === '') {
      throw new ConfigError(
        'invalid_config',
        `${name}: got "", expected a folder, e.g. ${name}=/opt/machine-id`,
      );
    }
    return parseFlag(absolutePathSchema, path.resolve(cwd, value), name);
  };
  if (flags.dataDir !== undefined && flags.storage !== undefined) {
    throw new ConfigError(
      'invalid_config',
      `give --data-dir or --storage, not both (they set the same thing: --data-dir ${flags.dataDir} is --storage file://${path.resolve(cwd, flags.dataDir)})`,
    );
  }
  const dataDir = folder(flags.dataDir, '--data-dir');
  return {
    auth_server:
      flags.authServer === undefined
        ? undefined
        : parseFlag(authServerSchema, flags.authServer, '--auth-server'),
    token: flags.token === undefined ? undefined : parseTokenFlag(flags.token, flags.tokenName ?? '--token'),
    join_method:
      flags.joinMethod === undefined
        ? undefined
        : parseFlag(joinMethodSchema, flags.joinMethod, '--join-method'),
    ca_pins: flags.caPins?.map((pin) => parseFlag(caPinSchema, pin, '--ca-pin')),
    /** Where the bot keeps its identity, from `--data-dir` or `--storage`. */
    storage:
      dataDir !== undefined
        ? { type: 'directory' as const, path: dataDir }
        : flags.storage === undefined
          ? undefined
          : storageFromUri(flags.storage, '--storage', cwd),
    destination_dir: folder(flags.destinationDir, '--destination-dir'),
    certificate_ttl:
      flags.certificateTtl === undefined
        ? undefined
        : parseFlag(durationSchema, flags.certificateTtl, '--certificate-ttl'),
    renewal_interval:
      flags.renewalInterval === undefined
        ? undefined
        : parseFlag(renewalIntervalSchema, flags.renewalInterval, '--renewal-interval'),
    diag_addr:
      flags.diagAddr === undefined ? undefined : parseFlag(diagAddrSchema, flags.diagAddr, '--diag-addr'),
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
function parseTokenFlag(token: string, name: string): string {
  return parseWithSchema(
    z.strictObject({ token: tokenSchema }),
    { token },
    {
      code: 'invalid_config',
      redact: ['token', 'onboarding'],
      error: (code, message) => new ConfigError(code, message.replace(/^token:/, `${name}:`)),
    },
  ).token;
}

/**
 * Checks a config document built from flags (over a file's keys, or over the defaults) as a whole:
 * the keys it requires and the rules across keys. A message names the flag for a value from a flag,
 * and otherwise the key, after `source` (the file) when there is one; a key missing from both says
 * which flag could give it.
 *
 * @throws ConfigError `invalid_config`
 */
export function checkConfigWithFlags(
  document: Record<string, unknown>,
  flags: BotConfigFlags,
  source?: string,
  locate?: Locate,
): BotConfig {
  const given = (option: keyof BotConfigFlags) => flags[option] !== undefined;
  // A mode's output is the last (see `loadBotConfigWithFlags`); its folder came from --destination.
  const outputs = document['outputs'];
  const modeIndex = given('output') && Array.isArray(outputs) ? outputs.length - 1 : undefined;
  const names: ConfigNames = {
    renewal_interval: given('renewalInterval') ? '--renewal-interval' : 'renewal_interval',
    certificate_ttl: given('certificateTtl') ? '--certificate-ttl' : 'certificate_ttl',
    'storage.path': given('dataDir') ? '--data-dir' : given('storage') ? '--storage' : 'storage.path',
    outputFolder: (index) =>
      index === modeIndex
        ? '--destination'
        : given('destinationDir')
          ? '--destination-dir'
          : CONFIG_KEYS.outputFolder(index),
  };
  const held = locateHeldValues(document, locate);
  const fromFlag = (at: readonly PropertyKey[]): string | undefined => {
    if (modeIndex !== undefined && at[0] === 'outputs' && at[1] === modeIndex) return '--destination';
    // (`storage` has two flags, --data-dir and --storage: the one typed.)
    return START_FLAG_KEYS.find((entry) => isWithin(at, entry.path) && given(entry.option))?.flag;
  };
  const label = (at: readonly PropertyKey[]): string => {
    const flag = fromFlag(at);
    if (flag !== undefined) return flag;
    const key = source === undefined ? formatPath(at) : `${source}: ${formatPath(at)}`;
    if (valueAt(document, at) !== undefined) return key;
    // `auth_server` has its flag; `onboarding` as a whole has the flags of the keys inside it.
    const fillers = START_FLAG_KEYS.filter(
      (entry) => isWithin(at, entry.path) || isWithin(entry.path, at),
    ).map((entry) => entry.flag);
    return fillers.length === 0 ? key : `${key} (or ${fillers.join(', ')})`;
  };
  return parseWithSchema(botConfigSchemaNaming(names), document, {
    code: 'invalid_config',
    redact: ['token', 'onboarding'],
    label,
    // The file's line, for a value the file holds; a flag's value and a missing key have none.
    locate: (at) => (fromFlag(at) === undefined ? held?.(at) : undefined),
    error: (code, message) => new ConfigError(code, message),
  });
}
