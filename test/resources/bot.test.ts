import { describe, expect, it } from 'vitest';
import { parseResource } from '../../lib/resources/resource.js';
import { configErrorOf, withField } from './helpers.js';

const bot = {
  kind: 'bot',
  version: 'v1',
  metadata: { name: 'robot' },
  spec: {
    roles: ['access', 'machine-id-kube-role'],
    traits: [
      { name: 'logins', values: ['ubuntu', 'ci_deploy'] },
      { name: 'kubernetes_groups', values: ['system:masters'] },
      { name: 'team', values: [] },
    ],
    max_session_ttl: '12h',
  },
};

const errorOf = (doc: unknown) => configErrorOf(() => parseResource(doc));

describe('bot', () => {
  it('reads every supported field', () => {
    expect(parseResource(bot)).toEqual(bot);
  });

  it.each([
    ['top level', 'owner', 'x', 'bot "robot": (top level): unknown key "owner"'],
    ['metadata', 'metadata.uid', 'x', 'bot "robot": metadata: unknown key "uid"'],
    ['spec', 'spec.user_name', 'x', 'bot "robot": spec: unknown key "user_name"'],
  ])('refuses an unknown key at the %s', (_, path, value, expected) => {
    expect(errorOf(withField(bot, path, value))).toContain(expected);
  });

  it('takes a bot exported by tctl get as it is, dropping its status', () => {
    const exported = withField(
      withField(bot, 'status', { user_name: 'bot-robot', role_name: 'bot-robot' }),
      'metadata.revision',
      '8c1f0c2e-5b1d-4f0e-9f7a-2d6c3b1a0e9f',
    );
    expect(parseResource(exported)).toEqual(bot);
  });

  it('refuses a bot without roles', () => {
    expect(errorOf(withField(bot, 'spec.roles', []))).toContain(
      'bot "robot": spec.roles: got an empty list, a bot needs at least one role; list role names, e.g. roles: [access]',
    );
    expect(errorOf(withField(bot, 'spec.roles', undefined))).toContain(
      'spec.roles: got nothing, expected a list',
    );
    expect(errorOf(withField(bot, 'spec.roles', 'access'))).toContain(
      'spec.roles: got "access", expected a list',
    );
  });

  it.each([
    ['a comma', 'robot,admin', '"," is not allowed in a name'],
    ['a newline', 'robot\nadmin', 'a line break is not allowed in a name'],
    ['a path', '../x', '"/" is not allowed in a name'],
    ['a leading dot', '.hidden', 'a name cannot start with "."'],
    ['a slash', 'a/b', '"/" is not allowed in a name'],
    ['a double dot', 'a..b', '".." is not allowed in a name'],
    ['100 characters', 'r'.repeat(100), 'the name is 100 characters long'],
    ['a space', 'my bot', 'a space is not allowed in a name'],
    ['an equals sign', 'cn=x', '"=" is not allowed in a name'],
    ['a quote', 'a"b', '"\\"" is not allowed in a name'],
    ['nothing', '', 'the name is empty'],
  ])('refuses a name with %s', (_, name, reason) => {
    const message = errorOf(withField(bot, 'metadata.name', name));
    const shown = JSON.stringify(name.length > 80 ? `${name.slice(0, 77)}...` : name);
    expect(message).toContain(`bot: metadata.name: got ${shown}, ${reason}`);
    expect(message).toContain(
      'a name is 1 to 63 letters, digits, ".", "_" or "-", starts with a letter or digit and has no ".."',
    );
  });

  it.each([61, 62, 63])(
    'refuses a name of %i characters, which its certificates could not hold',
    (length) => {
      const name = 'b'.repeat(length);
      expect(errorOf(withField(bot, 'metadata.name', name))).toContain(
        `bot: metadata.name: got "${name}", the name is ${length} characters long; a bot's name is at most 60 characters, because its certificates name it bot-<name> and a certificate's common name holds at most 64 (the X.520 limit): choose a shorter name`,
      );
    },
  );

  it('accepts a name of 60 characters, whose bot-<name> fills a common name exactly', () => {
    const name = 'b'.repeat(60);
    expect(parseResource(withField(bot, 'metadata.name', name))).toMatchObject({ metadata: { name } });
  });

  it('refuses more roles than its certificates can list', () => {
    const roles = Array.from({ length: 101 }, (_, index) => `role-${index}`);
    expect(errorOf(withField(bot, 'spec.roles', roles))).toContain(
      'bot "robot": spec.roles: got a list, a bot holds at most 100 roles, since its certificates list them as organizations; merge roles so that fewer remain',
    );
    expect(parseResource(withField(bot, 'spec.roles', roles.slice(0, 100)))).toBeDefined();
  });

  it('refuses role names that could not be names', () => {
    expect(errorOf(withField(bot, 'spec.roles', ['access', 'a b']))).toContain(
      'spec.roles[1]: got "a b", a space is not allowed in a name',
    );
  });

  it('holds the logins trait to the login rule, other traits to the Kubernetes name rule', () => {
    expect(errorOf(withField(bot, 'spec.traits', [{ name: 'logins', values: ['Administrator'] }]))).toContain(
      'spec.traits[0].values[0]: got "Administrator", not a valid login for the logins trait; a login is a POSIX user name',
    );
    expect(errorOf(withField(bot, 'spec.traits', [{ name: 'groups', values: ['a,b'] }]))).toContain(
      'spec.traits[0].values[0]: got "a,b", "," is not allowed',
    );
  });

  it('refuses a trait listed twice or with a bad name', () => {
    const twice = [
      { name: 'logins', values: ['a'] },
      { name: 'logins', values: ['b'] },
    ];
    expect(errorOf(withField(bot, 'spec.traits', twice))).toContain(
      'spec.traits[1].name: got "logins", this trait is listed twice; put all its values in one entry',
    );
    expect(errorOf(withField(bot, 'spec.traits', [{ name: 'my trait', values: [] }]))).toContain(
      'spec.traits[0].name: got "my trait", expected a trait name',
    );
    expect(errorOf(withField(bot, 'spec.traits', [{ name: 'x', value: ['a'] }]))).toContain(
      'spec.traits[0]: unknown key "value"',
    );
  });

  it('refuses a bad max_session_ttl', () => {
    expect(errorOf(withField(bot, 'spec.max_session_ttl', '2 days'))).toContain(
      'spec.max_session_ttl: got "2 days", expected a duration; write it in h, m, s or ms, like 1h, 20m, 90s or 1h30m',
    );
  });
});
