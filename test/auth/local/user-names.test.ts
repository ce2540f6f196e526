import { describe, expect, it } from 'vitest';
import { describeUid } from '../../../lib/auth/local/user-names.js';

describe('a uid in a refusal', () => {
  it('carries the name the system knows it by', () => {
    expect(describeUid(0)).toBe('uid 0 (root)');
    expect(describeUid(65534)).toBe('uid 65534 (nobody)');
  });

  it('stays a number when no user has it', () => {
    expect(describeUid(4_242_424)).toBe('uid 4242424');
  });
});
