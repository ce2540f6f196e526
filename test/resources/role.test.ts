import { describe, expect, it } from 'vitest';
import { parseResource } from '../../lib/resources/resource.js';
import { configErrorOf, withField } from './helpers.js';

const role = {
  kind: 'role',
  version: 'v7',
  metadata: { name: 'ops', description: 'Deploys\nthe web tier', labels: { team: 'web' } },
  spec: {
    allow: {
      logins: ['root', 'ci_deploy', 'machine$', '{{internal.logins}}', '{{ external.unix_users }}'],
      node_labels: { env: ['staging', 'prod'], 'kubernetes.io/role': 'web-*' },
      app_labels: { '*': '*' },
      kubernetes_labels: { region: '*' },
      kubernetes_groups: ['system:masters', '{{internal.kubernetes_groups}}'],
      kubernetes_users: ['alice@example.com'],
      kubernetes_resources: [{ kind: 'deployment', namespace: 'web-*', name: '*', verbs: ['get', 'list'] }],
      rules: [{ resources: ['host_cert'], verbs: ['create'] }],
    },
    deny: { logins: ['*'], node_labels: { env: 'secret' } },
    options: { max_session_ttl: '8h' },
  },
};

const errorOf = (doc: unknown) => configErrorOf(() => parseResource(doc));

describe('role', () => {
  it('reads every supported field', () => {
    expect(parseResource(role)).toEqual(role);
  });

  it.each(['v5', 'v6', 'v7'])('reads version %s', (version) => {
    expect(parseResource({ ...role, version: version, spec: { allow: { logins: ['root'] } } }).version).toBe(
      version,
    );
  });

  it('accepts an empty spec', () => {
    expect(parseResource({ ...role, spec: {} })).toMatchObject({ spec: {} });
  });

  it.each([
    ['metadata', 'metadata.owner', 'team-a', 'role "ops": metadata: unknown key "owner"'],
    ['spec', 'spec.allow_rules', [], 'role "ops": spec: unknown key "allow_rules"'],
    // Teleport's own keys (db_labels, forward_agent, a rule's where) are accepted: see role-notices.test.ts.
    ['allow', 'spec.allow.db_lables', {}, 'role "ops": spec.allow: unknown key "db_lables"'],
    [
      'options',
      'spec.options.forward_agents',
      true,
      'role "ops": spec.options: unknown key "forward_agents"',
    ],
    [
      'rules',
      'spec.allow.rules',
      [{ resources: ['x'], verbs: ['y'], wher: 'true' }],
      'spec.allow.rules[0]: unknown key "wher"',
    ],
  ])('refuses an unknown key in %s', (_, path, value, expected) => {
    expect(errorOf(withField(role, path, value))).toContain(expected);
  });

  it('takes a role exported by tctl get as it is, without what means nothing here', () => {
    const exported = parseResource(
      withField(
        withField(role, 'metadata.revision', '8c1f0c2e-5b1d-4f0e-9f7a-2d6c3b1a0e9f'),
        'metadata.namespace',
        'default',
      ),
    );
    expect(exported.metadata).toEqual(role.metadata);
    expect(errorOf(withField(role, 'metadata.namespace', 'prod'))).toContain(
      'metadata.namespace: got "prod", only the default namespace exists',
    );
  });

  it.each([
    [
      'logins given as a string',
      'spec.allow.logins',
      'root',
      'spec.allow.logins: got "root", expected a list',
    ],
    ['spec as a list', 'spec', [], 'spec: got an empty list, expected a mapping'],
    ['a number login', 'spec.allow.logins', [0], 'spec.allow.logins[0]: got 0, expected a string'],
    ['a missing spec', 'spec', undefined, 'spec: got nothing, expected a mapping'],
    ['a missing name', 'metadata.name', undefined, 'metadata.name: got nothing, expected a string'],
    [
      'a number label value',
      'metadata.labels',
      { tier: 1 },
      'metadata.labels.tier: got 1, expected a string',
    ],
  ])('refuses %s', (_, path, value, expected) => {
    expect(errorOf(withField(role, path, value))).toContain(expected);
  });

  it.each([
    ['Root', 'upper-case letters are not allowed'],
    ['bad user', 'a space is not allowed in a login'],
    ['1st', 'a login cannot start with "1"'],
    ['-rf', 'a login cannot start with "-"'],
    ['root\nx', 'a line break is not allowed in a login'],
    ['ro,ot', '"," is not allowed in a login'],
    ['a'.repeat(33), 'the login is 33 characters long'],
    ['', 'the login is empty'],
    ['*', 'the login *'],
  ])('refuses the login %j', (login, reason) => {
    const message = errorOf(withField(role, 'spec.allow.logins', ['root', login]));
    if (login === '*') {
      expect(message).toMatch(/spec\.allow\.logins\[1\]: got "\*", .*a login is a POSIX user name/);
      return;
    }
    expect(message).toContain(
      `role "ops": spec.allow.logins[1]: got ${JSON.stringify(login.length > 80 ? `${login.slice(0, 77)}...` : login)}, ${reason}`,
    );
    expect(message).toContain('a login is a POSIX user name');
  });

  it.each([
    '{{internal.logins',
    '{{internal}}',
    '{{email.local(external.email)}}',
    'ci-{{internal.logins}}',
    '{{internal.log ins}}',
  ])('refuses the malformed trait template %j', (template) => {
    expect(errorOf(withField(role, 'spec.allow.logins', [template]))).toContain(
      `spec.allow.logins[0]: got ${JSON.stringify(template)}, not a valid trait template; a trait template is the whole value and reads {{internal.<trait>}} or {{external.<trait>}}`,
    );
  });

  it.each([
    ['a comma', 'dev,ops', '"," is not allowed'],
    ['an equals sign', 'cn=admin', '"=" is not allowed'],
    ['a newline', 'dev\nops', 'a line break is not allowed'],
    ['a bidi override', 'dev\u202eops', 'the invisible character U+202E is not allowed'],
    ['a leading space', ' dev', 'spaces at either end are not allowed'],
    ['129 characters', 'g'.repeat(129), 'the name is 129 characters long'],
  ])('refuses a Kubernetes group with %s', (_, group, reason) => {
    const message = errorOf(withField(role, 'spec.allow.kubernetes_groups', [group]));
    expect(message).toContain(`spec.allow.kubernetes_groups[0]: got `);
    expect(message).toContain(reason);
  });

  it('refuses a Kubernetes user with a comma', () => {
    expect(errorOf(withField(role, 'spec.allow.kubernetes_users', ['alice,O=system:masters']))).toContain(
      'spec.allow.kubernetes_users[0]: got "alice,O=system:masters", "," is not allowed; a Kubernetes user or group is',
    );
  });

  it.each([
    [
      'an empty value list',
      { env: [] },
      'spec.allow.node_labels.env: got an empty list, expected at least one value',
    ],
    [
      'a number value',
      { env: 1 },
      'spec.allow.node_labels.env: got 1, expected a label value or a list of label values (quote numbers: "1")',
    ],
    [
      'a key with a space',
      { 'my env': 'x' },
      'spec.allow.node_labels: key "my env" is not accepted, a space is not allowed; label keys are',
    ],
    [
      'a regular expression',
      { env: '^prod-[0-9]+$' },
      'regular expressions are not supported in label selectors; use "*" as a wildcard',
    ],
    [
      'a wildcard key with a value',
      { '*': 'prod' },
      `spec.allow.node_labels.*: got "prod", the key "*" only takes the value "*"`,
    ],
    [
      'a control character',
      { env: 'pr\u0000od' },
      'the invisible character U+0000 is not allowed in a label value',
    ],
  ])('refuses a label selector with %s', (_, selector, expected) => {
    expect(errorOf(withField(role, 'spec.allow.node_labels', selector))).toContain(expected);
  });

  it('drops a __proto__ key from a JSON body without touching any prototype', () => {
    const selector = JSON.parse('{"env": "prod", "__proto__": {"polluted": "yes"}}');
    const parsed = parseResource(withField(role, 'spec.allow.node_labels', selector));
    const labels = parsed.kind === 'role' ? parsed.spec.allow?.node_labels : undefined;
    expect(labels).toEqual({ env: 'prod' });
    expect(Object.getPrototypeOf(labels)).toBe(Object.prototype);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each([
    [
      '2d',
      'expected a duration; write it in h, m, s or ms, like 1h, 20m, 90s or 1h30m (days are not a unit: write 2d as 48h)',
    ],
    ['eight hours', 'expected a duration; write it in h, m, s or ms, like 1h, 20m, 90s or 1h30m'],
    ['0s', 'expected a duration longer than zero'],
    [8, 'expected a string'],
  ])('refuses max_session_ttl %j', (ttl, reason) => {
    expect(errorOf(withField(role, 'spec.options.max_session_ttl', ttl))).toContain(
      `role "ops": spec.options.max_session_ttl: got ${typeof ttl === 'string' ? JSON.stringify(ttl) : ttl}, ${reason}`,
    );
  });

  it('accepts durations the way Teleport writes them', () => {
    for (const ttl of ['30m', '1h30m', '720h', '90s']) {
      expect(parseResource(withField(role, 'spec.options.max_session_ttl', ttl))).toBeTruthy();
    }
  });

  it('refuses kinds other than pod and verbs before v7, as Teleport does', () => {
    const v6 = { ...role, version: 'v6' };
    const message = errorOf(v6);
    expect(message).toContain(
      'spec.allow.kubernetes_resources[0].kind: got "deployment", role v6 only supports kind "pod" here; use version v7 for other kinds',
    );
    expect(message).toContain(
      'spec.allow.kubernetes_resources[0].verbs: got a list, verbs need role version v7',
    );
  });

  it('refuses a Kubernetes resource without a namespace or with a bad name', () => {
    expect(
      errorOf(withField(role, 'spec.allow.kubernetes_resources', [{ kind: 'pod', name: '*' }])),
    ).toContain('spec.allow.kubernetes_resources[0].namespace: got nothing, expected a string');
    expect(
      errorOf(
        withField(role, 'spec.allow.kubernetes_resources', [{ kind: 'pod', namespace: 'a b', name: '*' }]),
      ),
    ).toContain('spec.allow.kubernetes_resources[0].namespace: got "a b", a space is not allowed');
  });

  it('refuses a rule without verbs or with an odd resource name', () => {
    expect(errorOf(withField(role, 'spec.allow.rules', [{ resources: ['host_cert'], verbs: [] }]))).toContain(
      'spec.allow.rules[0].verbs: got an empty list, expected at least 1 item',
    );
    expect(
      errorOf(withField(role, 'spec.allow.rules', [{ resources: ['Host Cert'], verbs: ['create'] }])),
    ).toContain('spec.allow.rules[0].resources[0]: got "Host Cert", "H" is not allowed');
  });
});
