import {
  Composer,
  type CST,
  type DocumentOptions,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  type Node,
  type ParseOptions,
  Parser,
  type ScalarTag,
  type SchemaOptions,
  stringify,
} from 'yaml';
import { ConfigError } from '../core/errors.js';
import { yamlLocator } from '../core/yaml-locator.js';
import { parseRfc3339 } from './rfc3339.js';

/** Largest YAML text accepted, in bytes (UTF-8). Resources and configs are a few KiB. */
export const MAX_YAML_BYTES = 1024 * 1024;

/** Deepest nesting of mappings and lists accepted. A Teleport role is 5 levels deep. */
export const MAX_YAML_DEPTH = 32;

/** One parsed YAML document and a way to find where a path inside it was written. */
export interface YamlDocument {
  /** The document as plain JSON-like data (objects, arrays, strings, numbers, booleans, null). */
  readonly value: unknown;
  /** 1-based line where the document's content starts. */
  readonly line: number;
  /** `line N` for the node at `path` (or its nearest ancestor that exists), for error messages. */
  locate(path: readonly PropertyKey[]): string | undefined;
}

const CORE_TAGS = new Set(
  ['str', 'int', 'float', 'bool', 'null', 'map', 'seq', 'timestamp'].map(
    (name) => `tag:yaml.org,2002:${name}`,
  ),
);

/**
 * `!!timestamp` only when written explicitly: YAML 1.2 reads an unquoted `2030-01-01T00:00:00Z` as a
 * string, and turning every date-looking label value into a Date would surprise people.
 */
const explicitTimestamp: ScalarTag = {
  tag: 'tag:yaml.org,2002:timestamp',
  identify: () => false,
  resolve(value, onError) {
    const time = parseRfc3339(value) ?? Number.NaN;
    if (Number.isNaN(time)) {
      onError(`${JSON.stringify(value.slice(0, 40))} is not an RFC 3339 time such as 2030-01-01T00:00:00Z`);
    }
    return new Date(time);
  },
};

const COMPOSE_OPTIONS: ParseOptions & DocumentOptions & SchemaOptions = {
  version: '1.2',
  schema: 'core',
  customTags: [explicitTimestamp],
  merge: false,
  uniqueKeys: true,
  // All keys become strings, so `1: a` and `"1": b` are caught as the duplicates they become in JSON.
  stringKeys: true,
  strict: true,
  prettyErrors: false,
};

const HINTS: Record<string, string> = {
  TAB_AS_INDENT: 'indent with spaces, not tabs',
  TAG_RESOLVE_FAILED: 'remove the tag or fix the value; only plain YAML values are accepted',
  BAD_INDENT: 'check the indentation on that line',
  MULTILINE_IMPLICIT_KEY: 'check the indentation, or quote a value that contains ": "',
  BLOCK_AS_IMPLICIT_KEY: 'check the indentation, or quote a value that contains ": "',
  KEY_OVER_1024_CHARS: 'keys must be shorter than 1024 characters',
};

function fail(source: string, position: { line: number; col: number } | undefined, problem: string): never {
  const where = position === undefined ? source : `${source}:${position.line}:${position.col}`;
  throw new ConfigError('invalid_yaml', `${where}: ${problem}`);
}

/**
 * Measures nesting on the parser's token tree without recursion. The composer and the conversion to
 * JavaScript recurse per level, and 100 000 nested `[` can exhaust the stack inside V8's regular
 * expression engine, which aborts the process instead of throwing; so depth is bounded before either runs.
 */
function checkTokens(tokens: readonly CST.Token[], source: string, lines: LineCounter): void {
  const stack: Array<{ token: CST.Token; depth: number }> = tokens.map((token) => ({ token, depth: 0 }));
  while (stack.length > 0) {
    const { token, depth } = stack.pop() as { token: CST.Token; depth: number };
    switch (token.type) {
      case 'directive':
        fail(
          source,
          lines.linePos(token.offset),
          `YAML directives such as ${JSON.stringify(token.source.split(/\s/)[0])} are not supported; remove the line (documents are read as YAML 1.2)`,
        );
        break;
      case 'document':
        if (token.value) stack.push({ token: token.value, depth });
        break;
      case 'block-map':
      case 'block-seq':
      case 'flow-collection': {
        const inner = depth + 1;
        if (inner > MAX_YAML_DEPTH) {
          fail(
            source,
            lines.linePos(token.offset),
            `mappings and lists are nested more than ${MAX_YAML_DEPTH} levels deep; flatten the document`,
          );
        }
        for (const item of token.items) {
          if (item.key) stack.push({ token: item.key, depth: inner });
          if (item.value) stack.push({ token: item.value, depth: inner });
        }
        break;
      }
      default:
        break;
    }
  }
}

/** Refuses what YAML can express but a resource never needs, and which has been used to attack parsers. */
function checkNode(node: unknown, source: string, lines: LineCounter): void {
  const at = (n: Node | null | undefined) => (n?.range ? lines.linePos(n.range[0]) : undefined);
  if (isAlias(node)) {
    fail(source, at(node), `aliases (*${node.source}) are not supported; write the value out in full`);
  }
  if (!isScalar(node) && !isMap(node) && !isSeq(node)) return;
  if (node.anchor !== undefined) {
    fail(
      source,
      at(node),
      `anchors (&${node.anchor}) are not supported; remove it and write values out in full`,
    );
  }
  if (node.tag !== undefined && !CORE_TAGS.has(node.tag)) {
    fail(source, at(node), `the tag ${JSON.stringify(node.tag)} is not supported; remove it`);
  }
  if (isScalar(node)) return;
  for (const item of node.items) {
    if (isPair(item)) {
      const key = item.key as Node | null;
      if (isScalar(key) && key.value === '<<') {
        fail(source, at(key), 'merge keys (<<) are not supported; write the keys out in full');
      }
      if (isScalar(key) && key.value === '__proto__') {
        fail(source, at(key), 'the key "__proto__" is not allowed; remove it');
      }
      checkNode(key, source, lines);
      checkNode(item.value, source, lines);
    } else {
      checkNode(item, source, lines);
    }
  }
}

/** The key scalar starting at `offset`, to name the key in a duplicate-key error. */
function keyAt(node: unknown, offset: number): string | undefined {
  if (!isMap(node) && !isSeq(node)) return undefined;
  for (const item of node.items) {
    if (isPair(item)) {
      if (isScalar(item.key) && item.key.range?.[0] === offset) return String(item.key.value);
      const found = keyAt(item.key, offset) ?? keyAt(item.value, offset);
      if (found !== undefined) return found;
    } else {
      const found = keyAt(item, offset);
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/**
 * Reads every document of a multi-document YAML text (`---` separated) strictly: keys must be unique;
 * anchors, aliases, merge keys (`<<`), custom tags and directives are refused; the text may be at most
 * {@link MAX_YAML_BYTES} and nest at most {@link MAX_YAML_DEPTH} levels. Empty documents are skipped.
 *
 * @param source names the text in errors (a file name, `stdin`, `request body`).
 * @throws ConfigError `invalid_yaml`, naming the source, line and column, what is wrong and the fix.
 */
export function readYamlDocuments(text: string, source: string): YamlDocument[] {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_YAML_BYTES) {
    fail(
      source,
      undefined,
      `${(bytes / 1024 / 1024).toFixed(1)} MiB is over the ${MAX_YAML_BYTES / 1024 / 1024} MiB limit for a YAML file; split it into smaller files`,
    );
  }
  // NUL is never in YAML text: this is not a text file, so say that instead of quoting its bytes back
  // as a malformed document. (Readers of files check for bytes that are not UTF-8 before decoding.)
  if (text.includes('\u0000')) {
    fail(
      source,
      undefined,
      'this is not a text file (it holds bytes that are not UTF-8 text); pass a YAML file',
    );
  }
  const lines = new LineCounter();
  const tokens = Array.from(new Parser(lines.addNewLine).parse(text));
  checkTokens(tokens, source, lines);

  const documents: YamlDocument[] = [];
  for (const doc of new Composer(COMPOSE_OPTIONS).compose(tokens)) {
    const problems = [...doc.errors, ...doc.warnings];
    const first = problems[0];
    if (first !== undefined) {
      const more =
        problems.length > 1
          ? ` (${problems.length - 1} more problem${problems.length > 2 ? 's' : ''} after it)`
          : '';
      let problem: string;
      if (first.code === 'DUPLICATE_KEY') {
        const key = keyAt(doc.contents, first.pos[0]);
        problem = `the key ${key === undefined ? '' : `${JSON.stringify(key)} `}appears twice in the same mapping; keep only one of them`;
      } else {
        const hint =
          HINTS[first.code] ??
          'fix the YAML syntax there (indent with spaces, quote values that contain ": " or " #")';
        problem = `${first.message.trim()}; ${hint}`;
      }
      fail(source, lines.linePos(first.pos[0]), problem + more);
    }
    // An empty document (`---` followed by nothing or only comments) holds an empty null scalar; an
    // explicit `null` or `~` is content and left for the caller to refuse.
    if (doc.contents === null || (isScalar(doc.contents) && doc.contents.source === '')) continue;
    checkNode(doc.contents, source, lines);
    const start = doc.contents.range?.[0] ?? 0;
    documents.push({
      value: doc.toJS({ maxAliasCount: 0 }),
      line: lines.linePos(start).line,
      locate: yamlLocator(doc, lines),
    });
  }
  return documents;
}

/**
 * Parses multi-document YAML into plain values, strictly (see {@link readYamlDocuments}).
 *
 * @example
 * parseYamlDocuments('kind: role\n---\nkind: bot\n', 'resources.yaml'); // [{ kind: 'role' }, { kind: 'bot' }]
 */
export function parseYamlDocuments(text: string, source: string): unknown[] {
  return readYamlDocuments(text, source).map((doc) => doc.value);
}

/**
 * Renders a value as YAML that {@link parseYamlDocuments} reads back: never anchors or aliases, even when
 * one object appears twice, and no line folding.
 */
export function toYaml(value: unknown): string {
  return stringify(value, { aliasDuplicateObjects: false, lineWidth: 0, version: '1.2' });
}

/** Renders several values as one multi-document YAML text. */
export function toYamlDocuments(values: readonly unknown[]): string {
  return values.map((value) => toYaml(value)).join('---\n');
}
