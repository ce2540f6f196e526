import type * as z from 'zod';
import { closestNames } from './closest-names.js';
import { InvalidRequestError, type MidError } from './errors.js';
import { visibleJson } from './visible-text.js';

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

/** The value at `path` in a document, or undefined when there is none. */
export function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current = input;
  for (const part of path) {
    if (current === null || typeof current !== 'object') return undefined;
    // Own properties only: a path segment such as `constructor` must not reach into the prototype.
    if (!Object.hasOwn(current, part)) return undefined;
    current = (current as Record<PropertyKey, unknown>)[part];
  }
  return current;
}

/** Short, safe rendering of an offending value for an error message. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string') return visibleJson(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  // "got a list, expected at least one item" would leave the reader to see that the list is empty.
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : 'a list';
  if (value === null) return 'null';
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? 'an invalid date' : value.toISOString();
  if (typeof value === 'object') return 'a mapping';
  return String(value);
}

const EXPECTED: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  bigint: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  tuple: 'a list',
  object: 'a mapping',
  record: 'a mapping',
  date: 'a date',
  null: 'null',
};

function plural(count: number | bigint, word: string): string {
  return `${count} ${word}${count === 1 || count === 1n ? '' : 's'}`;
}

/**
 * Words for the issues zod reports without a schema-level message. Zod's own wording ("Invalid input:
 * expected string, received number") speaks of JavaScript types; people fixing YAML think in strings,
 * lists and mappings. The single key each unknown key most likely meant goes into `suggested` (as
 * {@link pathKey}), so that "missing" is not reported beside "did you mean" for the same key.
 */
const friendlyIssues =
  (suggested: Set<string>): z.core.$ZodErrorMap =>
  (issue) => {
    switch (issue.code) {
      case 'invalid_type':
        return `expected ${EXPECTED[issue.expected] ?? issue.expected}`;
      case 'invalid_value': {
        const values = issue.values.map((v) => JSON.stringify(v));
        return values.length === 1 ? `expected ${values[0]}` : `expected one of ${values.join(', ')}`;
      }
      case 'too_small': {
        if (issue.origin === 'array') return `expected at least ${plural(issue.minimum, 'item')}`;
        if (issue.origin === 'string') return `expected at least ${plural(issue.minimum, 'character')}`;
        return `expected ${issue.inclusive ? 'at least' : 'more than'} ${issue.minimum}`;
      }
      case 'too_big': {
        if (issue.origin === 'array') return `expected at most ${plural(issue.maximum, 'item')}`;
        if (issue.origin === 'string') return `expected at most ${plural(issue.maximum, 'character')}`;
        return `expected ${issue.inclusive ? 'at most' : 'less than'} ${issue.maximum}`;
      }
      case 'unrecognized_keys': {
        const advice = unknownKeysAdvice(issue.keys, knownKeysOf(issue.inst));
        for (const { names } of advice.meant) {
          if (names.length === 1) suggested.add(pathKey([...(issue.path ?? []), ...names]));
        }
        return advice.message;
      }
      default:
        return undefined;
    }
  };

function pathKey(path: readonly PropertyKey[]): string {
  return JSON.stringify(path.map(String));
}

/** The keys an object schema accepts, read from the schema that reported the unknown ones. */
function knownKeysOf(schema: unknown): string[] {
  const shape = (schema as { _zod?: { def?: { shape?: unknown } } } | undefined)?._zod?.def?.shape;
  return shape !== null && typeof shape === 'object' ? Object.keys(shape) : [];
}

/** What to do about unknown keys: the known key each most likely meant, or to remove them. */
function unknownKeysAdvice(
  keys: readonly string[],
  known: readonly string[],
): { message: string; meant: Array<{ key: string; names: string[] }> } {
  const meant = keys.flatMap((key) => {
    const names = closestNames(key, known);
    return names.length === 0 ? [] : [{ key, names }];
  });
  const quoted = (names: readonly string[]) => names.map((name) => JSON.stringify(name)).join(' or ');
  if (meant.length === 0)
    return { message: `remove ${keys.length > 1 ? 'them' : 'it'} or check the spelling`, meant };
  if (keys.length === 1) return { message: `did you mean ${quoted(meant[0]?.names ?? [])}?`, meant };
  const each = meant.map(({ key, names }) => `${quoted(names)} for ${JSON.stringify(key)}`).join(', ');
  const others = meant.length < keys.length ? ' Remove the others or check their spelling' : '';
  return { message: `did you mean ${each}?${others}`, meant };
}

export interface ParseWithSchemaOptions {
  /** Prefix for every path, e.g. the file name or `body`. */
  root?: string;
  /**
   * Names the place a path points at, when one `root` cannot: a value may come from a file or from a
   * flag (`-c FILE` with flags). Returning undefined names it as `root` would.
   */
  label?: (path: readonly PropertyKey[]) => string | undefined;
  /** Stable error code for the thrown error. @default 'invalid_input' */
  code?: string;
  /** Builds the thrown error. @default an `InvalidRequestError` */
  error?: ErrorFactory;
  /** Keys whose values must never be echoed (tokens, keys). */
  redact?: readonly string[];
  /**
   * Where a path sits in the source text (e.g. `line 12` of a YAML file), shown after the path.
   * Returning undefined shows nothing.
   */
  locate?: (path: readonly PropertyKey[]) => string | undefined;
}

interface HideValue {
  readonly hideValue?: boolean;
}

/**
 * `params` of a custom issue whose value must not be echoed: a field that is no secret, given a value
 * that may be one put in the wrong place (a join token pasted as a CA pin).
 */
export const HIDE_VALUE: HideValue = Object.freeze({ hideValue: true });

/**
 * Parses `input` with `schema` into a typed value or throws one error that names the field, the value
 * and what was expected. `root` prefixes paths (e.g. the file name or `body`). The first few issues are
 * listed so a person can fix several mistakes at once.
 *
 * `redact` lists keys whose values must never be echoed (tokens, keys); for an item of a list, the
 * list's key counts (`headers` hides `headers[0][1]`), and a value under no key is hidden whenever
 * `redact` names any.
 */
export function parseWithSchema<S extends z.ZodType>(
  schema: S,
  input: unknown,
  options: ParseWithSchemaOptions = {},
): z.output<S> {
  const suggested = new Set<string>();
  const result = schema.safeParse(input, { error: friendlyIssues(suggested) });
  if (result.success) return result.data;
  // A key reported missing that an unknown key beside it most likely meant: "did you mean" says it.
  const issues = result.error.issues.filter(
    (issue) => !(valueAt(input, issue.path) === undefined && suggested.has(pathKey(issue.path))),
  );
  const redact = new Set(options.redact ?? []);
  const where = (path: readonly PropertyKey[], at: readonly PropertyKey[] = path): string => {
    const location = options.locate?.(at);
    const rendered = options.label?.(path) ?? formatPath(path, options.root ?? '');
    return location === undefined ? rendered : `${rendered} (${location})`;
  };
  const lines = issues.slice(0, 5).map((issue) => {
    const issuePath = issue.path as PropertyKey[];
    if (issue.code === 'unrecognized_keys') {
      const keys = issue.keys;
      const at = keys[0] === undefined ? issuePath : [...issuePath, keys[0]];
      return `${where(issuePath, at)}: unknown key${keys.length > 1 ? 's' : ''} ${keys.map((k) => JSON.stringify(k)).join(', ')}; ${issue.message}`;
    }
    if (issue.code === 'invalid_key') {
      // zod puts the key itself last in the path and the key schema's complaint in `issues`.
      const parent = issuePath.slice(0, -1);
      const key = issuePath[issuePath.length - 1];
      const reason = issue.issues[0]?.message ?? issue.message;
      return `${where(parent, issuePath)}: key ${describeValue(key)} is not accepted, ${reason}`;
    }
    const field = issuePath.findLast((key) => typeof key === 'string');
    const value = valueAt(input, issuePath);
    // A missing or empty value has nothing to hide: "got nothing" or `got ""` says what is wrong.
    // A schema may also hide a value that looks like something else, a secret (see HIDE_VALUE).
    const hidden = issue.code === 'custom' && (issue.params as HideValue | undefined)?.hideValue === true;
    // Under no key at all (the input itself, or an item of a list at the top), a value may be one of the
    // secrets sent bare: a join body that is only the token, `"…"`, would otherwise be quoted back.
    const secret = hidden || (typeof field === 'string' ? redact.has(field) : redact.size > 0);
    const shown = secret && value !== undefined && value !== '' ? '(value hidden)' : describeValue(value);
    return `${where(issuePath)}: got ${shown}, ${issue.message}`;
  });
  const more = issues.length > 5 ? ` (and ${issues.length - 5} more)` : '';
  const message = lines.join('; ') + more;
  const code = options.code ?? 'invalid_input';
  throw options.error ? options.error(code, message) : new InvalidRequestError(code, message);
}
