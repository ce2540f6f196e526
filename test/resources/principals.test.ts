import { describe, expect, it } from 'vitest';
import { isKubernetesSubject, isPosixLogin } from '../../lib/resources/principals.js';

describe('isPosixLogin', () => {
  it.each([
    ['root', true],
    ['ec2-user', true],
    ['_svc', true],
    ['machine$', true],
    ['a'.repeat(32), true],
    ['a'.repeat(33), false],
    ['Root', false],
    ['1user', false],
    ['-rf', false],
    ['a$b', false],
    ['a b', false],
    ['', false],
    ['{{internal.logins}}', false],
  ])('%j is %s', (value, expected) => {
    expect(isPosixLogin(value)).toBe(expected);
  });
});

describe('isKubernetesSubject', () => {
  it.each([
    ['system:masters', true],
    ['alice@example.com', true],
    ['system:serviceaccount:ns:name', true],
    ['Dev Team', true],
    ['a,b', false],
    ['O=system:masters', false],
    ['a\\b', false],
    ['a\nb', false],
    ['a\u200bb', false],
    [' padded', false],
    ['', false],
    ['x'.repeat(129), false],
  ])('%j is %s', (value, expected) => {
    expect(isKubernetesSubject(value)).toBe(expected);
  });
});
