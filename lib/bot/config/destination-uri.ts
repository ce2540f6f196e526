import path from 'node:path';
import type * as z from 'zod';
import { ConfigError } from '../../core/errors.js';
import { parseWithSchema } from '../../core/schema.js';
import {
  type DestinationConfig,
  destinationSchema,
  type StorageConfig,
  storageSchema,
} from './bot-config.js';

/**
 * tbot's destination URIs (`--destination file:///opt/machine-id`, `--storage memory://`), read into
 * the config's destination mappings. A URI without a scheme is a folder, and a relative folder
 * resolves against the working directory, as `--destination-dir` does. midbot adds
 * `aws-secrets-manager://NAME-OR-ARN`, its own destination; tbot's `kubernetes-secret://` is refused
 * with what to use instead.
 */

const FILE = 'file://';
const MEMORY = 'memory://';
const SECRETS_MANAGER = 'aws-secrets-manager://';

/** `--destination URI` as an output's destination. */
export function destinationFromUri(uri: string, flag: string, cwd: string): DestinationConfig {
  if (uri.startsWith(SECRETS_MANAGER)) {
    const name = uri.slice(SECRETS_MANAGER.length);
    return checked(destinationSchema, { type: 'aws_secrets_manager', name }, flag);
  }
  const accepted = `file:///PATH (or a folder), memory:// or ${SECRETS_MANAGER}SECRET-NAME`;
  return checked(destinationSchema, folderOrMemory(uri, flag, cwd, accepted), flag);
}

/** `--storage URI` as where the bot keeps its own identity: a folder, or memory. */
export function storageFromUri(uri: string, flag: string, cwd: string): StorageConfig {
  if (uri.startsWith(SECRETS_MANAGER)) {
    throw new ConfigError(
      'invalid_config',
      `${flag}: got ${JSON.stringify(uri)}, expected file:///PATH (or a folder) or memory://: the bot keeps its own identity in a folder or in memory, never in Secrets Manager (a bot Lambda keeps none and joins with IAM on every run)`,
    );
  }
  return checked(
    storageSchema,
    folderOrMemory(uri, flag, cwd, 'file:///PATH (or a folder) or memory://'),
    flag,
  );
}

function folderOrMemory(uri: string, flag: string, cwd: string, accepted: string): Record<string, unknown> {
  if (uri === MEMORY) return { type: 'memory' };
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(uri)?.[1];
  if (scheme === undefined) return { type: 'directory', path: path.resolve(cwd, uri) };
  if (scheme.toLowerCase() === 'file' && uri.startsWith(FILE)) {
    const rest = uri.slice(FILE.length);
    if (rest === '') throw refused(uri, flag, `expected a folder after ${FILE}, e.g. file:///opt/machine-id`);
    // file:///opt/x is the absolute /opt/x; file://./x (tbot accepts it) is x in the working directory.
    return { type: 'directory', path: path.resolve(cwd, rest) };
  }
  if (scheme.toLowerCase() === 'kubernetes-secret') {
    throw refused(
      uri,
      flag,
      `expected ${accepted}: midbot writes no Kubernetes secret; write the output to a folder the pod mounts, or to Secrets Manager`,
    );
  }
  throw refused(uri, flag, `expected ${accepted}`);
}

function refused(uri: string, flag: string, message: string): ConfigError {
  return new ConfigError('invalid_config', `${flag}: got ${JSON.stringify(uri)}, ${message}`);
}

/** The mapping through its config schema, a problem named by the flag that gave it. */
function checked<S extends z.ZodType>(schema: S, value: unknown, flag: string): z.output<S> {
  return parseWithSchema(schema, value, {
    code: 'invalid_config',
    label: () => flag,
    error: (code, message) => new ConfigError(code, message),
  });
}
