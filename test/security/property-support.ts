import fc from 'fast-check';
import { MidError } from '../../lib/core/errors.js';
import { formatPath } from '../../lib/core/schema.js';

/**
 * Helpers for the property tests of the parsers that face the network and the config files. Each
 * parser must answer every input with a value or one of the project's errors (a MidError), never crash;
 * must not accept a malformed variant of a valid input; and must name the field it refuses.
 */
export type Outcome<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly error: MidError };

/** Runs a parser: its value, or its MidError. Anything else thrown is a crash and fails the property. */
export function settle<T>(run: () => T): Outcome<T> {
  try {
    return { ok: true, value: run() };
  } catch (error) {
    if (error instanceof MidError) return { ok: false, error };
    throw new Error(
      `crashed with ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`,
      {
        cause: error,
      },
    );
  }
}

export type Path = readonly (string | number)[];

/** Every node of a JSON-like value with its path, the root first. */
export function nodesOf(value: unknown, path: Path = []): Array<{ path: Path; value: unknown }> {
  const out: Array<{ path: Path; value: unknown }> = [{ path, value }];
  if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) out.push(...nodesOf(item, [...path, i]));
  } else if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    for (const [key, item] of Object.entries(value)) out.push(...nodesOf(item, [...path, key]));
  }
  return out;
}

export const isMapping = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date);

/** A deep copy with `update` applied to the node at `path` (the parent for `delete`). */
export function edit(value: unknown, path: Path, update: (node: unknown) => unknown): unknown {
  if (path.length === 0) return update(structuredClone(value));
  const copy = structuredClone(value) as Record<string | number, unknown>;
  let parent: Record<string | number, unknown> = copy;
  for (const part of path.slice(0, -1)) parent = parent[part] as Record<string | number, unknown>;
  const last = path[path.length - 1] as string | number;
  const next = update(parent[last]);
  if (next === REMOVE) {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else parent[last] = next;
  return copy;
}

/** Returned by an `edit` update to remove the node. */
export const REMOVE = Symbol('remove');

export function pathText(path: Path, root = ''): string {
  return formatPath(path, root);
}

/** A value of another JSON type than `value` (a string for a number, a mapping for a list...). */
export function otherType(value: unknown, pick: number): unknown {
  const candidates: unknown[] = [7, 'seven', true, null, [], { zz_unexpected: 1 }];
  const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);
  const others = candidates.filter((candidate) => kind(candidate) !== kind(value));
  return others[pick % others.length];
}

/** A JSON text of `value` with its mappings' keys shuffled and random whitespace: the same document. */
export function reformatJson(value: unknown, seed: number): string {
  let state = seed >>> 0 || 1;
  const next = () => {
    state = (state * 1_103_515_245 + 12_345) >>> 0;
    return state;
  };
  const space = () => [' ', '\n', '\t', '\r\n  ', ''][next() % 5] as string;
  const write = (node: unknown): string => {
    if (Array.isArray(node)) return `[${space()}${node.map(write).join(`,${space()}`)}${space()}]`;
    if (isMapping(node)) {
      const entries = Object.entries(node).sort(() => (next() % 2 === 0 ? -1 : 1));
      return `{${space()}${entries.map(([key, item]) => `${JSON.stringify(key)}${space()}:${space()}${write(item)}`).join(`,${space()}`)}${space()}}`;
    }
    return JSON.stringify(node);
  };
  return `${space()}${write(value)}${space()}`;
}

/** One-character edits of a text: what a corrupted or tampered field looks like. */
export const textEdit = fc.record({
  kind: fc.constantFrom('insert', 'delete', 'replace'),
  at: fc.nat(),
  char: fc.constantFrom(
    ...'aZ09/+=-_.:@?#%\\ "\'\n\r\t\u0000é'.split(''),
    String.fromCharCode(0x7f),
    '\u202e',
  ),
});

export function applyTextEdit(text: string, change: { kind: string; at: number; char: string }): string {
  const at = text.length === 0 ? 0 : change.at % (text.length + (change.kind === 'insert' ? 1 : 0));
  if (change.kind === 'insert') return text.slice(0, at) + change.char + text.slice(at);
  if (change.kind === 'delete') return text.slice(0, at) + text.slice(at + 1);
  return text.slice(0, at) + change.char + text.slice(at + 1);
}

/** Run counts: enough to find the classic mistakes, small enough for CI on two cores. */
export const RUNS = { numRuns: 200 } as const;
