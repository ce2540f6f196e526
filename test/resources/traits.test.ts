import { describe, expect, it } from 'vitest';
import { isPosixLogin } from '../../lib/resources/principals.js';
import { expandTraitTemplates, parseTraitTemplate } from '../../lib/resources/traits.js';

const traits = {
  logins: ['ubuntu', 'root'],
  kubernetes_groups: ['system:masters', 'viewers'],
  unix_users: ['deploy'],
  bad: ['Administrator', 'ok'],
};

describe('expandTraitTemplates', () => {
  it.each<[string, string[], string[]]>([
    ['keeps literal values', ['root', 'ec2-user'], ['root', 'ec2-user']],
    ['expands an internal trait', ['{{internal.logins}}'], ['ubuntu', 'root']],
    ['expands an external trait from the same traits', ['{{external.unix_users}}'], ['deploy']],
    ['allows spaces inside the braces', ['{{ internal.kubernetes_groups }}'], ['system:masters', 'viewers']],
    ['expands a missing trait to nothing', ['{{internal.windows_logins}}'], []],
    ['dedupes, first occurrence first', ['root', '{{internal.logins}}', 'root'], ['root', 'ubuntu']],
    [
      'drops a malformed template',
      ['{{internal.logins', 'ci-{{internal.logins}}', '{{email.local(external.email)}}'],
      [],
    ],
    ['does not read traits from the prototype', ['{{internal.constructor}}', '{{internal.__proto__}}'], []],
    ['returns nothing for nothing', [], []],
  ])('%s', (_, values, expected) => {
    expect(expandTraitTemplates(values, traits)).toEqual(expected);
  });

  it('filters expanded values, not literal ones, through accept', () => {
    expect(expandTraitTemplates(['Literal', '{{internal.bad}}'], traits, isPosixLogin)).toEqual([
      'Literal',
      'ok',
    ]);
  });
});

describe('parseTraitTemplate', () => {
  it.each([
    ['{{internal.logins}}', { scope: 'internal', trait: 'logins' }],
    ['{{external.groups}}', { scope: 'external', trait: 'groups' }],
    ['{{internal.logins}} ', undefined],
    ['{{internal["logins"]}}', undefined],
    ['{{other.logins}}', undefined],
    ['internal.logins', undefined],
  ])('%j', (value, expected) => {
    expect(parseTraitTemplate(value)).toEqual(expected);
  });
});
