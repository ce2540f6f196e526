import { describe, expect, it } from 'vitest';
import { matchArnGlob } from '../../../lib/auth/iam/arn-glob.js';

const ROLE = 'arn:aws:sts::123456789012:assumed-role';

describe('aws_arn glob semantics', () => {
  it.each([
    // pattern, ARN, matches, why
    [`${ROLE}/ci-role/*`, `${ROLE}/ci-role/session-1`, true, '* matches the session segment'],
    [`${ROLE}/ci-role/*`, `${ROLE}/ci-role/i-0abc123`, true, 'any session name'],
    [`${ROLE}/ci-role/*`, `${ROLE}/ci-role-admin/session-1`, false, 'the role segment is literal'],
    [`${ROLE}/ci-role/*`, `${ROLE}/other/session-1`, false, 'another role'],
    [`${ROLE}/*`, `${ROLE}/ci-role/session-1`, false, '* does not cross /'],
    [`${ROLE}/*/*`, `${ROLE}/ci-role/session-1`, true, 'one * per segment'],
    [`${ROLE}/ci-*/*`, `${ROLE}/ci-role/s1`, true, '* inside a segment'],
    [`${ROLE}/ci-*/*`, `${ROLE}/ci-/s1`, true, '* matches nothing too'],
    [`${ROLE}/ci-*`, `${ROLE}/ci-role/s1`, false, 'a trailing * still stays in its segment'],
    ['arn:aws:sts::123456789012:*', `${ROLE}/ci-role/s1`, false, '* does not cross / after the account'],
    ['arn:aws:sts:*', `${ROLE}/ci-role/s1`, false, '* does not cross :'],
    ['*', `${ROLE}/ci-role/s1`, false, 'a lone * matches one segment only'],
    [`${ROLE}/ci-role/session-?`, `${ROLE}/ci-role/session-1`, true, '? is one character'],
    [`${ROLE}/ci-role/session-?`, `${ROLE}/ci-role/session-12`, false, '? is exactly one character'],
    [`${ROLE}/ci-role?session-1`, `${ROLE}/ci-role/session-1`, false, '? does not match /'],
    [`${ROLE}/ci-role/session-1`, `${ROLE}/ci-role/session-1`, true, 'literal pattern matches itself'],
    [`${ROLE}/ci-role/session-1`, `${ROLE}/ci-role/session-10`, false, 'the whole ARN must match'],
    [`${ROLE}/ci-role/Session-1`, `${ROLE}/ci-role/session-1`, false, 'case-sensitive'],
    [`${ROLE}/ci-role/*`, `arn:aws:sts::210987654321:assumed-role/ci-role/s1`, false, 'account is literal'],
    [
      `${ROLE}/ci-role/*`,
      `arn:aws-cn:sts::123456789012:assumed-role/ci-role/s1`,
      false,
      'partition is literal',
    ],
    ['arn:aws:iam::123456789012:user/*', 'arn:aws:iam::123456789012:user/alice', true, 'user without path'],
    [
      'arn:aws:iam::123456789012:user/*',
      'arn:aws:iam::123456789012:user/ci/alice',
      false,
      'paths are segments',
    ],
    ['arn:aws:iam::123456789012:user/ci/*', 'arn:aws:iam::123456789012:user/ci/alice', true, 'name the path'],
    [`${ROLE}/ci.role/*`, `${ROLE}/ciXrole/s1`, false, '. is literal, not a regex'],
    [
      'arn:aws:iam::123456789012:user/ci/*',
      'arn:aws:iam::123456789012:user/ci:alice',
      false,
      '/ and : each match only themselves',
    ],
    ['arn:aws:iam::123456789012:user/*', 'arn:aws:iam::123456789012/user/alice', false, ': never matches /'],
    [`${ROLE}/ci-role/**`, `${ROLE}/ci-role/s1`, true, '** is the same as *'],
  ])('%s vs %s → %s (%s)', (pattern, arn, expected) => {
    expect(matchArnGlob(pattern, arn)).toBe(expected);
  });

  it('answers quickly for a pattern built to make a backtracking matcher explode', () => {
    const pattern = `${ROLE}/${'*a'.repeat(30)}*b/*`;
    const arn = `${ROLE}/${'a'.repeat(60)}/s1`;
    const started = performance.now();
    expect(matchArnGlob(pattern, arn)).toBe(false);
    expect(performance.now() - started).toBeLessThan(100);
  });
});
