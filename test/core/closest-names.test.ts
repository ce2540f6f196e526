import { describe, expect, it } from 'vitest';
import { closestNames } from '../../lib/core/closest-names.js';

const CONFIG_KEYS = [
  'version',
  'auth_server',
  'onboarding',
  'storage',
  'outputs',
  'certificate_ttl',
  'renewal_interval',
  'oneshot',
];

describe('closestNames', () => {
  it.each([
    ['a typo', 'storgae', ['storage']],
    ['a missing letter', 'ouputs', ['outputs']],
    ['an extra letter', 'versionn', ['version']],
    ['kebab-case', 'auth-server', ['auth_server']],
    ['camelCase', 'renewalInterval', ['renewal_interval']],
    ['another case', 'OneShot', ['oneshot']],
  ])('finds the key for %s', (_, word, expected) => {
    expect(closestNames(word, CONFIG_KEYS)).toEqual(expected);
  });

  it('suggests nothing for a word far from every key', () => {
    expect(closestNames('proxy_server', CONFIG_KEYS)).toEqual([]);
    expect(closestNames('debug', CONFIG_KEYS)).toEqual([]);
  });

  it('allows fewer edits in short words, so that short keys are not all alike', () => {
    expect(closestNames('tls', ['ttl', 'app'])).toEqual([]);
    expect(closestNames('tokne', ['token', 'roles'])).toEqual(['token']);
  });

  it('lists every name as close as the closest, at most three, and never the word itself', () => {
    expect(closestNames('nodes', ['node', 'notes', 'nodes', 'modes', 'codes'])).toEqual([
      'node',
      'notes',
      'modes',
    ]);
  });
});
