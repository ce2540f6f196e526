import { describe, expect, it } from 'vitest';
import {
  MAX_YAML_DEPTH,
  parseYamlDocuments,
  readYamlDocuments,
  toYaml,
  toYamlDocuments,
} from '../../lib/resources/yaml-documents.js';
import { configErrorOf } from './helpers.js';

const parse = (text: string) => parseYamlDocuments(text, 'resources.yaml');
const errorOf = (text: string) => configErrorOf(() => parse(text), 'invalid_yaml');

describe('parseYamlDocuments', () => {
  it('reads every document of a multi-document text and skips empty ones', () => {
    const text = '---\n# only a comment\n---\nkind: role\n---\n---\nkind: bot\nlist: [1, two]\n...\n';
    expect(parse(text)).toEqual([{ kind: 'role' }, { kind: 'bot', list: [1, 'two'] }]);
  });

  it('returns nothing for an empty text', () => {
    expect(parse('')).toEqual([]);
    expect(parse('# nothing here\n')).toEqual([]);
  });

  it('keeps an explicit null document so the caller can refuse it', () => {
    expect(parse('---\n~\n')).toEqual([null]);
  });

  it('reads YAML 1.2: yes/no and unquoted times stay strings, leading zeros do not make octal', () => {
    expect(parse('a: yes\nb: 2030-01-01T00:00:00Z\nc: 0755\n')).toEqual([
      { a: 'yes', b: '2030-01-01T00:00:00Z', c: 755 },
    ]);
  });

  it('reads an explicit !!timestamp as a Date', () => {
    expect(parse('at: !!timestamp 2030-01-01T00:00:00Z\n')).toEqual([
      { at: new Date('2030-01-01T00:00:00Z') },
    ]);
  });

  it('refuses a duplicate key, naming it, the source, line and column', () => {
    const message = errorOf('kind: role\nmetadata:\n  name: a\n  name: b\n');
    expect(message).toBe(
      'resources.yaml:4:3: the key "name" appears twice in the same mapping; keep only one of them',
    );
  });

  it('treats keys that become the same JSON key as duplicates', () => {
    expect(errorOf('1: a\n"1": b\n')).toMatch(/^resources\.yaml:2:1: the key "1" appears twice/);
  });

  it('refuses a file that is not text without quoting its bytes back', () => {
    const garbage = Buffer.from([0x41, 0xff, 0xfe, 0x00, 0x9c, 0x63, 0x32]).toString('latin1');
    const message = errorOf(garbage);
    expect(message).toBe(
      'resources.yaml: this is not a text file (it holds bytes that are not UTF-8 text); pass a YAML file',
    );
  });

  it('reads text that holds U+FFFD, which is a character like any other', () => {
    expect(parse('kind: role\nmetadata: {description: "bad byte: \uFFFD"}\n')).toHaveLength(1);
  });

  it('refuses aliases and anchors', () => {
    expect(errorOf('a: &base {x: 1}\nb: 2\n')).toMatch(
      /^resources\.yaml:1:\d+: anchors \(&base\) are not supported; remove it and write values out in full$/,
    );
    expect(errorOf('a: 1\nb: *base\n')).toBe(
      'resources.yaml:2:4: aliases (*base) are not supported; write the value out in full',
    );
  });

  it('refuses a billion-laughs alias bomb quickly', { timeout: 5000 }, () => {
    const lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    const names = 'abcdefghij';
    for (let i = 1; i < names.length; i++) {
      const previous = `*${names[i - 1]}`;
      lines.push(`${names[i]}: &${names[i]} [${Array(9).fill(previous).join(', ')}]`);
    }
    expect(errorOf(lines.join('\n'))).toMatch(/^resources\.yaml:1:\d+: anchors \(&a\) are not supported/);
  });

  it('refuses merge keys, even without an alias', () => {
    expect(errorOf('base: {a: 1}\nrole:\n  <<: {a: 2}\n  b: 3\n')).toBe(
      'resources.yaml:3:3: merge keys (<<) are not supported; write the keys out in full',
    );
  });

  it('refuses custom tags', () => {
    expect(errorOf('a: !secret value\n')).toMatch(
      /^resources\.yaml:1:4: Unresolved tag: !secret; remove the tag/,
    );
    expect(errorOf('a: !!python/object:os.system ls\n')).toMatch(
      /^resources\.yaml:1:4: Unresolved tag: .*python/,
    );
    expect(errorOf('a: !<tag:example.com,2000:x> v\n')).toMatch(/^resources\.yaml:1:4: /);
  });

  it('accepts the core tags', () => {
    expect(parse('a: !!str 123\nb: !!int "7"\n')).toEqual([{ a: '123', b: 7 }]);
  });

  it('refuses directives, which would switch to YAML 1.1 or declare tags', () => {
    expect(errorOf('%YAML 1.1\n---\na: 1\n')).toBe(
      'resources.yaml:1:1: YAML directives such as "%YAML" are not supported; remove the line (documents are read as YAML 1.2)',
    );
    expect(errorOf('%TAG !e! tag:example.com,2000:\n---\na: !e!x 1\n')).toMatch(
      /^resources\.yaml:1:1: YAML directives/,
    );
  });

  it(`accepts ${MAX_YAML_DEPTH} levels of nesting and refuses one more`, () => {
    const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);
    expect(parse(nested(MAX_YAML_DEPTH))).toHaveLength(1);
    expect(errorOf(nested(MAX_YAML_DEPTH + 1))).toBe(
      `resources.yaml:1:${MAX_YAML_DEPTH + 1}: mappings and lists are nested more than ${MAX_YAML_DEPTH} levels deep; flatten the document`,
    );
  });

  // 200 000 nested `[` abort the whole process (not just throw) if they reach the yaml composer.
  it('refuses 200 000 nested flow lists without crashing the process', { timeout: 30_000 }, () => {
    expect(errorOf('['.repeat(200_000) + ']'.repeat(200_000))).toBe(
      'resources.yaml:1:33: mappings and lists are nested more than 32 levels deep; flatten the document',
    );
  });

  it('refuses deep block lists, flow mappings and indented mappings', { timeout: 30_000 }, () => {
    expect(errorOf(`${'- '.repeat(50_000)}x\n`)).toMatch(
      /^resources\.yaml:1:\d+: mappings and lists are nested/,
    );
    expect(errorOf(`${'{a: '.repeat(20_000)}1${'}'.repeat(20_000)}`)).toMatch(/nested more than 32 levels/);
    const block = Array.from({ length: 40 }, (_, i) => `${' '.repeat(i)}k:`).join('\n');
    expect(errorOf(`${block} 1\n`)).toMatch(/^resources\.yaml:33:\d+: mappings and lists are nested/);
  });

  it('refuses a text over 1 MiB before parsing it', () => {
    expect(errorOf(`a: "${'x'.repeat(2 * 1024 * 1024)}"\n`)).toBe(
      'resources.yaml: 2.0 MiB is over the 1 MiB limit for a YAML file; split it into smaller files',
    );
  });

  it('counts the limit in bytes, not characters', () => {
    expect(errorOf(`a: "${'é'.repeat(600 * 1024)}"\n`)).toMatch(/over the 1 MiB limit/);
  });

  it('refuses tab indentation with the fix', () => {
    expect(errorOf('spec:\n\tallow: {}\n')).toBe(
      'resources.yaml:2:1: Tabs are not allowed as indentation; indent with spaces, not tabs',
    );
  });

  it('refuses garbage with a position and says how many more problems follow', () => {
    const message = errorOf('{{{\n: : :\n');
    expect(message).toMatch(
      /^resources\.yaml:\d+:\d+: .+; fix the YAML syntax there .*\(\d+ more problems after it\)$/,
    );
  });

  it('refuses a key named __proto__', () => {
    expect(errorOf('metadata:\n  __proto__: {polluted: true}\n')).toBe(
      'resources.yaml:2:3: the key "__proto__" is not allowed; remove it',
    );
  });

  it('refuses complex keys', () => {
    expect(errorOf('? [a, b]\n: c\n')).toMatch(
      /^resources\.yaml:1:3: With stringKeys, all keys must be strings/,
    );
  });

  it('locates a path inside a document, falling back to the nearest ancestor', () => {
    const [doc] = readYamlDocuments(
      '---\nkind: role\nspec:\n  allow:\n    logins:\n      - root\n      - Bad\n',
      'x',
    );
    expect(doc?.line).toBe(2);
    expect(doc?.locate(['spec', 'allow', 'logins', 1])).toBe('line 7');
    expect(doc?.locate(['spec', 'allow', 'node_labels'])).toBe('line 5');
    expect(doc?.locate(['nope'])).toBe('line 2');
  });
});

describe('toYaml', () => {
  it('writes YAML that reads back to the same value, without aliases for repeated objects', () => {
    const shared = { env: 'prod' };
    const value = { a: shared, b: shared, when: '2030-01-01T00:00:00.000Z', zip: '01234', yes: 'yes', n: 1 };
    const text = toYaml(value);
    expect(text).not.toMatch(/[&*]/);
    expect(parse(text)).toEqual([value]);
  });

  it('writes several documents that read back in order', () => {
    const values = [{ kind: 'role' }, { kind: 'bot' }];
    expect(parse(toYamlDocuments(values))).toEqual(values);
  });
});
