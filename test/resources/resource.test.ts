import { describe, expect, it } from 'vitest';
import { parseResources } from '../../lib/resources/parse-resources.js';
import {
  isReadOnlyKind,
  parseResource,
  READ_ONLY_KINDS,
  RESOURCE_KINDS,
  SUPPORTED_VERSIONS,
} from '../../lib/resources/resource.js';
import { toYamlDocuments } from '../../lib/resources/yaml-documents.js';
import { configErrorOf } from './helpers.js';

const role = {
  kind: 'role',
  version: 'v7',
  metadata: { name: 'ops' },
  spec: { allow: { logins: ['root'] } },
};

describe('parseResource', () => {
  it('returns the typed resource', () => {
    const parsed = parseResource(role);
    expect(parsed.kind).toBe('role');
    expect(parsed).toEqual(role);
  });

  it.each([
    ['a list', []],
    ['a string', 'kind: role'],
    ['null', null],
    ['a number', 7],
  ])('refuses a document that is %s', (_, doc) => {
    expect(configErrorOf(() => parseResource(doc, 'role.yaml'))).toMatch(
      /^role\.yaml: expected a resource, a mapping with kind, version, metadata and spec; got /,
    );
  });

  it('refuses an unknown kind, listing the known kinds', () => {
    expect(configErrorOf(() => parseResource({ ...role, kind: 'user' }, 'role.yaml'))).toBe(
      'role.yaml: kind: got "user", expected one of role, bot, token, bot_instance, app, kube_cluster, node',
    );
    expect(configErrorOf(() => parseResource({ metadata: { name: 'x' } }))).toBe(
      'kind: got nothing, expected one of role, bot, token, bot_instance, app, kube_cluster, node',
    );
    // A kind in the plural (as `tctl get roles` spells it) or with a dash gets the one it meant.
    expect(configErrorOf(() => parseResource({ ...role, kind: 'roles' }))).toMatch(/; did you mean role\?$/);
    expect(configErrorOf(() => parseResource({ ...role, kind: 'kube-cluster' }))).toMatch(
      /; did you mean kube_cluster\?$/,
    );
  });

  it('does not take kinds from the prototype', () => {
    expect(configErrorOf(() => parseResource({ ...role, kind: 'constructor' }))).toMatch(
      /^kind: got "constructor"/,
    );
    expect(configErrorOf(() => parseResource({ ...role, kind: 'toString' }))).toMatch(
      /^kind: got "toString"/,
    );
  });

  it('refuses a missing or unsupported version, listing the supported ones', () => {
    const { version: _, ...unversioned } = role;
    expect(configErrorOf(() => parseResource(unversioned))).toBe(
      'role "ops": version: got nothing, role supports version v5, v6, v7; write e.g. version: v7',
    );
    expect(configErrorOf(() => parseResource({ ...role, version: 'v4' }))).toBe(
      'role "ops": version: got "v4", role supports version v5, v6, v7; write e.g. version: v7',
    );
    expect(configErrorOf(() => parseResource({ ...role, kind: 'bot', version: 2 }))).toBe(
      'bot "ops": version: got 2, bot supports version v1; write e.g. version: v1',
    );
  });

  it('refuses unknown top-level keys', () => {
    expect(configErrorOf(() => parseResource({ ...role, status: {} }))).toBe(
      'role "ops": (top level): unknown key "status"; remove it or check the spelling',
    );
  });

  it('does not repeat an invalid name in front of the error', () => {
    const message = configErrorOf(() => parseResource({ ...role, metadata: { name: 'a,b' } }));
    expect(message).toMatch(/^role: metadata\.name: got "a,b", "," is not allowed in a name/);
  });

  it('lists several problems at once', () => {
    const message = configErrorOf(() =>
      parseResource({ ...role, metadata: { name: 'ops', extra: 1 }, spec: { allow: { logins: ['Root'] } } }),
    );
    expect(message).toContain('metadata: unknown key "extra"');
    expect(message).toContain('spec.allow.logins[0]: got "Root"');
  });
});

describe('parseResources', () => {
  it('reads each document and names the file and line of a bad field', () => {
    const text = [
      'kind: role',
      'version: v7',
      'metadata: {name: ops}',
      'spec: {}',
      '---',
      'kind: role',
      'version: v7',
      'metadata:',
      '  name: dev',
      'spec:',
      '  allow:',
      '    logins:',
      '      - root',
      '      - Admin',
    ].join('\n');
    expect(configErrorOf(() => parseResources(text, 'roles.yaml'))).toMatch(
      /^roles\.yaml: role "dev": spec\.allow\.logins\[1\] \(line 14\): got "Admin", upper-case letters are not allowed/,
    );
  });

  it('stops at the first bad document and names the line of an unknown kind or key', () => {
    expect(
      configErrorOf(() =>
        parseResources(
          'kind: role\nversion: v7\nmetadata: {name: a}\nspec: {}\n---\nkind: rolee\n',
          'r.yaml',
        ),
      ),
    ).toBe(
      'r.yaml: kind (line 6): got "rolee", expected one of role, bot, token, bot_instance, app, kube_cluster, node; did you mean role?',
    );
    expect(configErrorOf(() => parseResources('kind: app\n---\nkind: rolee\n', 'r.yaml'))).toMatch(
      /^r\.yaml: app: version \(line 1\): got nothing/,
    );
    const text = 'kind: role\nversion: v7\nmetadata:\n  name: ops\nspec:\n  allow: {}\n  alow: {}\n';
    expect(configErrorOf(() => parseResources(text, 'r.yaml'))).toBe(
      'r.yaml: role "ops": spec (line 7): unknown key "alow"; did you mean "allow"?',
    );
    // A key whose value is a block below it: the key's line, not the block's first.
    const block = 'kind: role\nversion: v7\nmetadata:\n  name: ops\nspec:\n  alow:\n    logins: [root]\n';
    expect(configErrorOf(() => parseResources(block, 'r.yaml'))).toBe(
      'r.yaml: role "ops": spec (line 6): unknown key "alow"; did you mean "allow"?',
    );
    const topLevel = 'kind: role\nversion: v7\nmetdata:\n  name: ops\nspec: {}\n';
    expect(configErrorOf(() => parseResources(topLevel, 'r.yaml'))).toMatch(
      /\(line 3\): unknown key "metdata"; did you mean "metadata"\?/,
    );
  });

  it('refuses a scalar document', () => {
    expect(configErrorOf(() => parseResources('just text\n', 'r.yaml'))).toMatch(
      /^r\.yaml: expected a resource, a mapping with kind, version, metadata and spec; got "just text" \(line 1\)$/,
    );
  });

  it('reads back what toYamlDocuments writes', () => {
    const resources = [
      role,
      {
        kind: 'token',
        version: 'v2',
        metadata: { name: 'iam-token', expires: '2030-01-01T00:00:00.000Z' },
        spec: {
          roles: ['Bot'],
          join_method: 'iam',
          bot_name: 'robot',
          allow: [{ aws_account: '012345678901' }],
        },
      },
    ].map((r) => parseResource(r));
    expect(parseResources(toYamlDocuments(resources), 'out.yaml')).toEqual(resources);
  });
});

describe('kinds and versions', () => {
  it('lists every kind with its versions', () => {
    expect(RESOURCE_KINDS).toEqual(['role', 'bot', 'token', 'bot_instance', 'app', 'kube_cluster', 'node']);
    expect(SUPPORTED_VERSIONS).toEqual({
      role: ['v5', 'v6', 'v7'],
      bot: ['v1'],
      token: ['v2'],
      bot_instance: ['v1'],
      app: ['v3'],
      kube_cluster: ['v3'],
      node: ['v2'],
    });
  });

  it('marks bot_instance, and only it, as read-only', () => {
    expect(READ_ONLY_KINDS).toEqual(['bot_instance']);
    expect(isReadOnlyKind('bot_instance')).toBe(true);
    expect(isReadOnlyKind('role')).toBe(false);
  });
});
