import { formatDuration } from '../../core/duration.js';
import type { BotConfig } from './bot-config.js';
import {
  maySameSecret,
  regionOfSecretArn,
  type SecretReference,
  secretReference,
} from './secret-reference.js';

/**
 * The rules of a bot config that span several fields, found after each field parsed on its own, and
 * the defaults of the renewal schedule they judge (certificates live 1 h, renewed every 20 min).
 */

export const DEFAULT_CERTIFICATE_TTL_MS = 3_600_000;
export const DEFAULT_RENEWAL_INTERVAL_MS = 1_200_000;

/**
 * A rule that spans several fields, found after each field parsed on its own. The message reads after
 * `PATH: got VALUE, ` (how `parseWithSchema` shows it).
 */
export interface ConfigProblem {
  readonly path: (string | number)[];
  readonly message: string;
}

/** How the two renewal settings are named in a message: config keys, or the flags the user typed. */
export interface RenewalNames {
  readonly renewal_interval: string;
  readonly certificate_ttl: string;
}

/** How the settings the rules compare are named in a message: as config keys, or as the flags typed. */
export interface ConfigNames extends RenewalNames {
  readonly 'storage.path': string;
  /** The folder of the output at `index` (`outputs[0].destination.path`, or `--destination-dir`). */
  readonly outputFolder: (index: number) => string;
}

export const CONFIG_KEYS: ConfigNames = {
  renewal_interval: 'renewal_interval',
  certificate_ttl: 'certificate_ttl',
  'storage.path': 'storage.path',
  outputFolder: (index) => `outputs[${index}].destination.path`,
};

/** Whether folder `inner` lies somewhere below folder `outer` (both absolute and normalised). */
function isBelow(inner: string, outer: string): boolean {
  return inner.startsWith(outer.endsWith('/') ? outer : `${outer}/`) && inner !== outer;
}

/**
 * Renewal before expiry: `renewal_interval` must be shorter than `certificate_ttl`, or certificates
 * expire before they are renewed. It blames `certificate_ttl` when `renewal_interval` has its default
 * value (most likely only the TTL was set), and `renewal_interval` otherwise.
 */
export function findRenewalProblem(
  config: Pick<BotConfig, 'certificate_ttl' | 'renewal_interval'>,
  names: RenewalNames = CONFIG_KEYS,
): { readonly field: keyof RenewalNames; readonly message: string } | undefined {
  const interval = formatDuration(config.renewal_interval);
  const ttl = formatDuration(config.certificate_ttl);
  if (config.renewal_interval < config.certificate_ttl) return undefined;
  if (config.renewal_interval === DEFAULT_RENEWAL_INTERVAL_MS) {
    return {
      field: 'certificate_ttl',
      message: `expected more than ${names.renewal_interval} (${interval}, the default when not set), or certificates expire before they are renewed; raise ${names.certificate_ttl} or lower ${names.renewal_interval}`,
    };
  }
  return {
    field: 'renewal_interval',
    message: `expected less than ${names.certificate_ttl} (${ttl}${config.certificate_ttl === DEFAULT_CERTIFICATE_TTL_MS ? ', the default when not set' : ''}), or certificates expire before they are renewed; lower ${names.renewal_interval} or raise ${names.certificate_ttl}`,
  };
}

/**
 * The rules no single field can check: renewal before expiry, a join token where midbot must join on
 * every start, one folder (or secret) per output, and the bot's own data kept out of every output.
 */
export function findConfigProblems(
  config: Pick<BotConfig, 'onboarding' | 'outputs' | 'storage' | 'certificate_ttl' | 'renewal_interval'>,
  names: ConfigNames = CONFIG_KEYS,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const renewal = findRenewalProblem(config, names);
  if (renewal !== undefined) problems.push({ path: [renewal.field], message: renewal.message });
  // (The iam method needs its token whatever the storage; `onboardingSchema` says so.)
  if (
    config.onboarding.join_method === 'token' &&
    config.onboarding.token === undefined &&
    config.storage.type === 'memory'
  ) {
    problems.push({
      path: ['onboarding', 'token'],
      message:
        'required with storage type memory: midbot then joins on every start, and joining needs the token printed by `midctl bots add` (only with storage type directory may it be left out, once storage holds the identity)',
    });
  }
  problems.push(...findFolderNesting(config, names));
  const seen = new Map<string, number>();
  const secrets: Array<{ reference: SecretReference; index: number }> = [];
  config.outputs.forEach((output, index) => {
    const destination = output.destination;
    if (destination.type === 'memory') return;
    const field = destination.type === 'directory' ? 'path' : 'name';
    let first: number | undefined;
    if (destination.type === 'directory') {
      first = seen.get(destination.path);
      if (first === undefined) seen.set(destination.path, index);
    } else {
      const arnRegion = regionOfSecretArn(destination.name);
      if (arnRegion !== undefined && destination.region !== undefined && destination.region !== arnRegion) {
        problems.push({
          path: ['outputs', index, 'destination', 'region'],
          message: `the secret's ARN is in ${arnRegion}, and a secret is reached only in its own region; remove region: (midbot calls an ARN's region) or set it to ${arnRegion}`,
        });
      }
      // By what the name resolves to: a name and an ARN of one secret clash as much as two equal names.
      const reference = secretReference(destination.name, destination.region);
      first = secrets.find((earlier) => maySameSecret(earlier.reference, reference))?.index;
      if (first === undefined) secrets.push({ reference, index });
    }
    if (first !== undefined) {
      problems.push({
        path: ['outputs', index, 'destination', field],
        message: `the same ${destination.type === 'directory' ? 'folder' : 'secret'} as outputs[${first}]${destination.type === 'directory' ? '' : ' (by name or ARN; give each a region: if they are in different regions)'}; each output needs its own destination (outputs[${first}] and outputs[${index}] would overwrite each other's files)`,
      });
    }
    if (
      destination.type === 'directory' &&
      config.storage.type === 'directory' &&
      destination.path === config.storage.path
    ) {
      problems.push({
        path: ['outputs', index, 'destination', 'path'],
        message: `the same folder as ${names['storage.path']}; the bot's own renewable identity must not sit where readers of this output can reach it, choose another folder`,
      });
    }
  });
  return problems;
}

/**
 * Folders inside one another, which the same-folder rules above do not see: a folder is readable to
 * whoever may read the folders around it (`midbot init` gives an output's reader a default ACL that
 * every folder made in it inherits). So the storage folder may not sit in an output's folder nor an
 * output's in the storage folder, and one output's folder may not sit in another's, whose readers
 * would reach its key.
 */
function findFolderNesting(
  config: Pick<BotConfig, 'outputs' | 'storage'>,
  names: ConfigNames,
): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const folders = config.outputs.flatMap((output, index) =>
    output.destination.type === 'directory' ? [{ index, path: output.destination.path }] : [],
  );
  const storage = config.storage.type === 'directory' ? config.storage.path : undefined;
  for (const folder of folders) {
    if (storage !== undefined && isBelow(storage, folder.path)) {
      problems.push({
        path: ['storage', 'path'],
        message: `inside ${names.outputFolder(folder.index)} (${folder.path}); the bot's own renewable identity must not sit where readers of that output can reach it, choose a folder outside it`,
      });
    }
    if (storage !== undefined && isBelow(folder.path, storage)) {
      problems.push({
        path: ['outputs', folder.index, 'destination', 'path'],
        message: `inside ${names['storage.path']} (${storage}); readers of this output must not be let into the folder that holds the bot's own renewable identity, choose a folder outside it`,
      });
    }
    const outer = folders.find((other) => isBelow(folder.path, other.path));
    if (outer !== undefined) {
      problems.push({
        path: ['outputs', folder.index, 'destination', 'path'],
        message: `inside ${names.outputFolder(outer.index)} (${outer.path}); readers of that output would reach this output's key, and each output needs a folder of its own, choose one outside it`,
      });
    }
  }
  return problems;
}
