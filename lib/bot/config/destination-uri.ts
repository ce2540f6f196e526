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
 * the config's destination mappings, or a plain folder (a relative one resolves against the working
 * directory, as `--destination-dir` does). midbot adds `aws-secrets-manager://NAME-OR-ARN`, its own
 * destination. Anything else that looks like a URI is refused rather than taken for a folder of that
 * name: `file://host/x` (tbot too keeps files on this host only), `file:/x`, `memory:`, `s3://…`.
 */

const SECRETS_MANAGER = 'aws-secrets-manager://';
const FOLDER_FORMS = 'file:///PATH or a folder (/opt/machine-id, ./out)';

/** `--destination URI` as an output's destination. */
export function destinationFromUri(uri: string, flag: string, cwd: string): DestinationConfig {
  const accepted = `${FOLDER_FORMS}, memory:// or ${SECRETS_MANAGER}SECRET-NAME`;
  if (hasScheme(uri, SECRETS_MANAGER)) {
    const name = uri.slice(SECRETS_MANAGER.length);
    return checked(destinationSchema, { type: 'aws_secrets_manager', name }, flag);
  }
  const elsewhere = 'write the output to a folder (one a pod mounts, say) or to Secrets Manager';
  return checked(destinationSchema, folderOrMemory(uri, flag, cwd, accepted, elsewhere), flag);
}

/** `--storage URI` as where the bot keeps its own identity: a folder, or memory. */
export function storageFromUri(uri: string, flag: string, cwd: string): StorageConfig {
  const accepted = `${FOLDER_FORMS} or memory://`;
  if (hasScheme(uri, SECRETS_MANAGER)) {
    throw refused(
      uri,
      flag,
      `expected ${accepted}: the bot keeps its own identity in a folder or in memory, never in Secrets Manager (a bot Lambda keeps none and joins with IAM on every run)`,
    );
  }
  const elsewhere = 'keep it in a folder (on a volume, in a pod) or in memory';
  return checked(storageSchema, folderOrMemory(uri, flag, cwd, accepted, elsewhere), flag);
}

function folderOrMemory(
  uri: string,
  flag: string,
  cwd: string,
  accepted: string,
  elsewhere: string,
): Record<string, unknown> {
  if (uri.trim() === '') throw refused(uri, flag, `expected ${accepted}`);
  if (uri.toLowerCase() === 'memory://') return { type: 'memory' };
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(uri)?.[1]?.toLowerCase();
  if (scheme === undefined) {
    if (uri.startsWith('~')) {
      throw refused(
        uri,
        flag,
        `expected ${accepted}: the shell leaves ~ as it is after = (and midbot does not expand it); write the full path`,
      );
    }
    return { type: 'directory', path: path.resolve(cwd, uri) };
  }
  if (scheme === 'file' && hasScheme(uri, 'file:///')) {
    return { type: 'directory', path: decodedPath(uri.slice('file://'.length), uri, flag) };
  }
  if (scheme === 'file') {
    throw refused(
      uri,
      flag,
      'expected file:/// and the absolute path (three slashes: the files are on this host, which has no name in the URI), or a plain folder such as ./out',
    );
  }
  if (scheme === 'kubernetes-secret') {
    throw refused(uri, flag, `expected ${accepted}: midbot writes no Kubernetes secret; ${elsewhere}`);
  }
  // `memory:`, `s3://…`, `C:…`: a scheme midbot does not know, or a folder whose name holds a colon.
  throw refused(uri, flag, `expected ${accepted} (a folder whose name holds a colon: write ./${uri})`);
}

/** Whether `uri` starts with `prefix`, a scheme being case-insensitive. */
function hasScheme(uri: string, prefix: string): boolean {
  return uri.slice(0, prefix.length).toLowerCase() === prefix;
}

/** The path of a `file:///` URI, percent-escapes (`%20`) decoded as in any URI. */
function decodedPath(encoded: string, uri: string, flag: string): string {
  try {
    return decodeURIComponent(encoded);
  } catch {
    throw refused(
      uri,
      flag,
      'expected a valid URI: a % must start an escape such as %20 (write a % itself as %25)',
    );
  }
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
