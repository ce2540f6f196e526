import { isAlias, isCollection, isMap, isPair, isScalar, LineCounter, parseAllDocuments, visit } from 'yaml';
import { ConfigError } from '../../core/errors.js';
import { yamlLocator } from '../../core/yaml-locator.js';
import { checkConfigSize } from './config-size.js';
import type { ConfigText } from './config-text.js';

const YAML_ERROR_HINTS: Record<string, string> = {
  DUPLICATE_KEY: 'each key may appear once in a mapping; remove or merge the duplicate',
  TAB_AS_INDENT: 'indent with spaces, not tabs',
  BAD_INDENT: 'check the indentation of this line against its siblings',
  MISSING_CHAR: 'a quote or bracket is not closed',
  TAG_RESOLVE_FAILED: 'YAML tags are not allowed in a config file; write a plain value',
};

/**
 * Reads one YAML document strictly: YAML 1.2 core schema (so `yes` stays a string), unique keys, and
 * none of the features that let a file say one thing and mean another: anchors, aliases, merge keys
 * (`<<`), explicit tags, non-text keys, several documents.
 *
 * Error messages carry `source:line:column` and never quote the offending text, which could be the
 * line holding the join token. The result says on which line each value was written, for the errors
 * of the checks that follow.
 */
export function parseConfigYaml(text: string, source: string): ConfigText {
  checkConfigSize(text, source);
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, {
    version: '1.2',
    schema: 'core',
    uniqueKeys: true,
    merge: false,
    strict: true,
    prettyErrors: false,
    lineCounter: lines,
  });
  if (!Array.isArray(docs)) {
    // The yaml package returns an EmptyStream for input that holds no document at all.
    throw invalid(`${source}: the file holds no YAML document; expected a config starting with version: v2`);
  }
  if (docs.length === 0) {
    throw invalid(`${source}: the file holds no YAML document; expected a config starting with version: v2`);
  }
  if (docs.length > 1) {
    const second = docs[1];
    const at = second?.range ? where(lines, second.range[0]) : '';
    throw invalid(`${source}${at}: found a second YAML document (---); a config file holds exactly one`);
  }
  const doc = docs[0]!;
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) {
    const at = where(lines, problem.pos[0]);
    const key = problem.code === 'DUPLICATE_KEY' ? keyAt(text, problem.pos[0]) : undefined;
    const what = key ? `duplicate key ${JSON.stringify(key)}` : problem.message.replace(/\.$/, '');
    const hint = YAML_ERROR_HINTS[problem.code];
    throw invalid(`${source}${at}: ${what}${hint ? `; ${hint}` : ''}`);
  }

  visit(doc, {
    Alias(_key, node) {
      throw invalid(
        `${source}${where(lines, node.range?.[0])}: YAML alias *${node.source} is not allowed in a config file; write the value out`,
      );
    },
    Node(_key, node) {
      if (node.anchor) {
        throw invalid(
          `${source}${where(lines, node.range?.[0])}: YAML anchor &${node.anchor} is not allowed in a config file; write each value out`,
        );
      }
      if (node.tag) {
        throw invalid(
          `${source}${where(lines, node.range?.[0])}: YAML tag ${node.tag.replace('tag:yaml.org,2002:', '!!')} is not allowed in a config file; write a plain value`,
        );
      }
      if (isMap(node)) {
        for (const pair of node.items) checkKey(pair.key, source, lines);
      }
    },
  });

  return { document: doc.toJS({ maxAliasCount: 0 }), locate: yamlLocator(doc, lines) };
}

function checkKey(key: unknown, source: string, lines: LineCounter): void {
  if (isAlias(key)) return; // reported by the Alias visitor
  if (!isScalar(key) || typeof key.value !== 'string') {
    const range =
      isScalar(key) || isCollection(key) || isPair(key) ? (key as { range?: number[] }).range : undefined;
    throw invalid(
      `${source}${where(lines, range?.[0])}: a mapping key must be plain text (got ${isCollection(key) ? 'a list or mapping' : JSON.stringify(isScalar(key) ? key.value : key)})`,
    );
  }
  if (key.value === '<<') {
    throw invalid(
      `${source}${where(lines, key.range?.[0])}: YAML merge keys (<<) are not allowed in a config file; write each key out`,
    );
  }
}

function where(lines: LineCounter, offset: number | undefined): string {
  if (offset === undefined) return '';
  const { line, col } = lines.linePos(offset);
  return `:${line}:${col}`;
}

/** The key text at a duplicate-key error: keys are never secret, unlike the values after them. */
function keyAt(text: string, offset: number): string | undefined {
  const rest = text.slice(offset, text.indexOf('\n', offset) === -1 ? undefined : text.indexOf('\n', offset));
  const match = /^\s*(["']?)([^"':]+)\1\s*:/.exec(rest);
  return match?.[2]?.trim();
}

function invalid(message: string): ConfigError {
  return new ConfigError('invalid_config', message);
}
