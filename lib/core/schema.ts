import type { z } from 'zod';
import { type MidError, InvalidRequestError } from './errors.js';

type ErrorFactory = (code: string, message: string) => MidError;

/** Renders a zod path as people write it in YAML and JSON: `spec.allow.logins[0]`. */
export function formatPath(path: readonly PropertyKey[], root = ''): string {
  let out = root;
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(top level)' : out;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current = input;
  for (const part of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return current;
}

/** Short, safe rendering of an offending value for an error message. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

/**
 * Parses `input` with `schema` into a typed value or throws one error that names the field, the value
 * and what was expected. `root` prefixes paths (e.g. the file name or `body`). The first few issues are
 * listed so a person can fix several mistakes at once.
 *
 * `redact` lists keys whose values must never be echoed (tokens, keys).
 */
export function parseWithSchema<S extends z.ZodType>(
  schema: S,
  input: unknown,
  options: { root?: string; code?: string; error?: ErrorFactory; redact?: readonly string[] } = {},
): z.output<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const redact = new Set(options.redact ?? []);
  const lines = result.error.issues.slice(0, 5).map((issue) => {
    const issuePath = issue.path as PropertyKey[];
    if (issue.code === 'unrecognized_keys') {
      const keys = (issue as { keys: string[] }).keys;
      const where = formatPath(issuePath, options.root ?? '');
      return `${where}: unknown key${keys.length > 1 ? 's' : ''} ${keys.map((k) => JSON.stringify(k)).join(', ')}; remove ${keys.length > 1 ? 'them' : 'it'} or check the spelling`;
    }
    const where = formatPath(issuePath, options.root ?? '');
    const last = issuePath[issuePath.length - 1];
    const shown =
      typeof last === 'string' && redact.has(last) ? '(value hidden)' : describeValue(valueAt(input, issuePath));
    return `${where}: got ${shown}, ${issue.message}`;
  });
  const more = result.error.issues.length > 5 ? ` (and ${result.error.issues.length - 5} more)` : '';
  const message = lines.join('; ') + more;
  const code = options.code ?? 'invalid_input';
  throw options.error ? options.error(code, message) : new InvalidRequestError(code, message);
}
