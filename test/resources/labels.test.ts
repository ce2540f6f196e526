import { describe, expect, it } from 'vitest';
import { matchLabels, matchLabelValue } from '../../lib/resources/labels.js';
import type { LabelSelector } from '../../lib/resources/metadata.js';

const web = { env: 'prod', team: 'web-eu', 'kubernetes.io/role': 'frontend' };

describe('matchLabels', () => {
  it.each<[string, LabelSelector | undefined, Record<string, string>, boolean]>([
    ['an absent selector matches nothing', undefined, web, false],
    ['an empty selector matches nothing', {}, web, false],
    ["'*': '*' matches everything", { '*': '*' }, web, true],
    ["'*': '*' matches a resource without labels", { '*': '*' }, {}, true],
    ["'*': ['*'] matches everything", { '*': ['*'] }, web, true],
    ["'*': '*' next to other keys still matches everything", { '*': '*', env: 'dev' }, web, true],
    ["'*' with another value matches nothing", { '*': 'prod' }, web, false],
    ['an exact value', { env: 'prod' }, web, true],
    ['another value', { env: 'dev' }, web, false],
    ['values are case-sensitive', { env: 'Prod' }, web, false],
    ['any of a list', { env: ['staging', 'prod'] }, web, true],
    ['none of a list', { env: ['staging', 'dev'] }, web, false],
    ['every key must match', { env: 'prod', team: 'db' }, web, false],
    ['all keys matching', { env: 'prod', team: 'web-eu' }, web, true],
    ['a missing key', { region: '*' }, web, false],
    ['* as a value needs the key', { env: '*' }, web, true],
    ['* as a value on a missing key', { owner: '*' }, web, false],
    ['a glob at the end', { team: 'web-*' }, web, true],
    ['a glob at the start', { team: '*-eu' }, web, true],
    ['a glob in the middle', { team: 'w*u' }, web, true],
    ['a glob that does not match', { team: 'db-*' }, web, false],
    ['a glob crosses "/" and "."', { 'kubernetes.io/role': 'f*d' }, web, true],
    ['a glob is anchored', { team: 'web' }, web, false],
    ['a prefix is not a match', { env: 'pro' }, web, false],
    ['a regex is literal', { env: '^prod$' }, web, false],
    ['keys from the prototype are not labels', { constructor: '*' }, {}, false],
    ['an empty value matches an empty label', { env: '' }, { env: '' }, true],
  ])('%s', (_, selector, labels, expected) => {
    expect(matchLabels(selector, labels)).toBe(expected);
  });
});

describe('matchLabelValue', () => {
  it.each([
    ['*', '', true],
    ['*', 'anything', true],
    ['a*b*c', 'abc', true],
    ['a*b*c', 'aXbYc', true],
    ['a*b*c', 'aXbY', false],
    ['**', 'x', true],
    ['a?c', 'abc', false],
    ['a.c', 'abc', false],
    ['', '', true],
    ['', 'x', false],
  ])('%j against %j is %s', (pattern, value, expected) => {
    expect(matchLabelValue(pattern, value)).toBe(expected);
  });

  it('stays fast on a pattern made to backtrack', { timeout: 2000 }, () => {
    expect(matchLabelValue(`${'*a'.repeat(128)}b`, 'a'.repeat(256))).toBe(false);
  });
});
