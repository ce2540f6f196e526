import { describe, expect, it } from 'vitest';
import { clusterNameProblem } from '../../../lib/auth/local/cluster-name.js';

describe('the name of a new cluster', () => {
  it.each(['example.test', 'mid.local', 'a', 'prod-1.eu-west-1.example.com', 'x'.repeat(56)])(
    'takes the DNS name %s',
    (name) => {
      expect(clusterNameProblem(name)).toBeUndefined();
    },
  );

  it.each([
    ['bad name!', /^a space is not allowed; a cluster name is a lower-case DNS name/],
    ['a..b', /^every label between dots must be 1 to 63 characters/],
    ['-x', /^every label between dots must be 1 to 63 characters/],
    ['x-.test', /^every label between dots/],
    ['example.test.', /^every label between dots/],
    ['.example', /^every label between dots/],
    ['UPPER.test', /^upper-case letters are not allowed \(write upper\.test\)/],
    ['under_score.test', /^"_" is not allowed/],
    ['mid://x', /^":" is not allowed/],
    ['tab\there', /^a tab is not allowed/],
    ['', /^the name is empty/],
    // "<name> user CA" would be longer than the 64 characters X.520 allows in a common name.
    ['x'.repeat(57), /^the name is 57 characters long/],
  ])('refuses %j, saying why', (name, why) => {
    expect(clusterNameProblem(name)).toMatch(why);
  });
});
