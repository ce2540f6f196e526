import { describe, expect, it } from 'vitest';
import { clusterNameProblem, suggestedClusterName } from '../../../lib/auth/local/cluster-name.js';

describe('the name of a new cluster', () => {
  it.each(['example.test', 'mid.local', 'a', 'prod-1.eu-west-1.example.com', 'x'.repeat(56)])(
    'takes the DNS name %s',
    (name) => {
      expect(clusterNameProblem(name)).toBeUndefined();
    },
  );

  it.each([
    ['bad name!', /^a space is not allowed \(write bad-name\); a cluster name is a lower-case DNS name/],
    ['a..b', /^every label between dots must be 1 to 63 characters/],
    ['-x', /^every label between dots must be 1 to 63 characters/],
    ['x-.test', /^every label between dots/],
    ['example.test.', /^every label between dots/],
    ['.example', /^every label between dots/],
    ['UPPER.test', /^upper-case letters are not allowed \(write upper\.test\)/],
    ['under_score.test', /^"_" is not allowed \(write under-score\.test\); /],
    ['Example_Test', /^upper-case letters are not allowed \(write example-test\); /],
    ['UPPER..test', /^upper-case letters are not allowed; a cluster name/],
    [`${'X'.repeat(50)}_x`, /^upper-case letters are not allowed \(write x{50}-x\); /],
    ['mid://x', /^":" is not allowed/],
    ['tab\there', /^a tab is not allowed/],
    ['', /^the name is empty/],
    // "<name> user CA" would be longer than the 64 characters X.520 allows in a common name.
    ['x'.repeat(57), /^the name is 57 characters long/],
  ])('refuses %j, saying why', (name, why) => {
    expect(clusterNameProblem(name)).toMatch(why);
  });

  it.each([
    ['Example_Test', 'example-test'],
    [' prod.Example.com ', 'prod.example.com'],
    ['my cluster!.test', 'my-cluster.test'],
    ['eu_west__1.example', 'eu-west-1.example'],
  ])('suggests a valid name for %j: %s', (name, suggestion) => {
    expect(suggestedClusterName(name)).toBe(suggestion);
    expect(clusterNameProblem(suggestion)).toBeUndefined();
  });

  it.each([
    ['a name that would still have an empty label', 'UPPER..test'],
    ['a name that would still be too long', `${'X'.repeat(56)}_x`],
    ['a name of nothing but refused characters', '___'],
  ])('suggests nothing for %s', (_what, name) => {
    expect(suggestedClusterName(name)).toBeUndefined();
  });
});
