import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError } from '../../lib/core/errors.js';
import { parseWithSchema } from '../../lib/core/schema.js';

const schema = z.strictObject({
  name: z.string().min(1, 'expected a non-empty name'),
  items: z.array(z.strictObject({ port: z.number().int() })),
  token: z.string().optional(),
});

describe('parseWithSchema', () => {
  it('returns the typed value for valid input', () => {
    expect(parseWithSchema(schema, { name: 'a', items: [{ port: 1 }] })).toEqual({
      name: 'a',
      items: [{ port: 1 }],
    });
  });

  it('names the path and the value of a wrong type', () => {
    expect(() => parseWithSchema(schema, { name: 'a', items: [{ port: 'x' }] }, { root: 'body' })).toThrow(
      /body\.items\[0\]\.port: got "x", /,
    );
  });

  it('names unknown keys and how to fix them', () => {
    expect(() => parseWithSchema(schema, { name: 'a', items: [], extra: 1 })).toThrow(
      /unknown key "extra"; remove it or check the spelling/,
    );
  });

  it('suggests the key a misspelt one most likely meant, at the level it was found', () => {
    const message = (input: unknown) => {
      try {
        parseWithSchema(schema, input, { root: 'body' });
      } catch (error) {
        return (error as Error).message;
      }
      return expect.unreachable();
    };
    // `name` is required too: reported once, as the key "nmae" most likely meant.
    expect(message({ nmae: 'a', items: [] })).toBe('body: unknown key "nmae"; did you mean "name"?');
    expect(message({ nmae: 'a', items: 'x' })).toBe(
      'body.items: got "x", expected a list; body: unknown key "nmae"; did you mean "name"?',
    );
    // With two keys it might have meant, the missing one is still reported.
    const either = z.strictObject({ port: z.number(), part: z.number().optional() });
    expect(() => parseWithSchema(either, { pxrt: 1 })).toThrow(
      'port: got nothing, expected a number; (top level): unknown key "pxrt"; did you mean "port" or "part"?',
    );
    expect(message({ name: 'a', items: [{ prot: 1 }] })).toMatch(
      /body\.items\[0\]: unknown key "prot"; did you mean "port"\?$/,
    );
    expect(message({ name: 'a', items: [], tokne: 'x', extra: 1 })).toMatch(
      /unknown keys "tokne", "extra"; did you mean "token" for "tokne"\? Remove the others or check their spelling$/,
    );
  });

  it('never echoes a redacted value', () => {
    try {
      parseWithSchema(schema, { name: 'a', items: [], token: 42 }, { redact: ['token'] });
      expect.unreachable();
    } catch (error) {
      expect(String(error)).toContain('(value hidden)');
      expect(String(error)).not.toContain('42');
    }
  });

  it('hides a redacted value inside a list under the redacted key, and says when it is missing', () => {
    const signed = z.strictObject({
      headers: z.array(z.tuple([z.string(), z.string().max(4)])),
      token: z.string(),
    });
    const refusal = (input: unknown) => {
      try {
        parseWithSchema(signed, input, { redact: ['headers', 'token'] });
      } catch (error) {
        return String(error);
      }
      throw new Error('expected a refusal');
    };
    const long = refusal({ headers: [['x-amz-security-token', 'secret-session']], token: 't' });
    expect(long).toContain('headers[0][1]: got (value hidden)');
    expect(long).not.toContain('secret-session');
    expect(refusal({ headers: [] })).toContain('token: got nothing');
  });

  it('hides the whole input when it is not a mapping and some of its keys are secret (a token sent bare)', () => {
    const join = z.strictObject({ token: z.string() });
    for (const input of ['d29ff3a31c0ffee5ecre7', ['d29ff3a31c0ffee5ecre7'], 4242424242]) {
      const refusal = () => parseWithSchema(join, input, { root: 'body', redact: ['token'] });
      expect(refusal).toThrow(/^body: got /);
      expect(refusal).not.toThrow(/d29ff3|4242424242/);
    }
    expect(() => parseWithSchema(join, 'd29ff3a31c0ffee5ecre7', { root: 'body', redact: ['token'] })).toThrow(
      'body: got (value hidden), expected a mapping',
    );
    expect(() => parseWithSchema(join, 'plain', { root: 'body' })).toThrow(
      'body: got "plain", expected a mapping',
    );
  });

  it('says a redacted value is empty, which hides nothing', () => {
    const schema = z.strictObject({ token: z.string().min(1, 'expected the token, not an empty string') });
    expect(() => parseWithSchema(schema, { token: '' }, { redact: ['token'] })).toThrow(
      'token: got "", expected the token, not an empty string',
    );
  });

  it('raises the error family the caller asks for', () => {
    expect(() =>
      parseWithSchema(
        schema,
        {},
        { error: (code, message) => new ConfigError(code, message), code: 'bad_config' },
      ),
    ).toThrow(ConfigError);
  });
});

describe('parseWithSchema messages', () => {
  const message = (schema: z.ZodType, input: unknown, options = {}) => {
    try {
      parseWithSchema(schema, input, options);
    } catch (error) {
      return (error as Error).message;
    }
    return expect.unreachable();
  };

  it('speaks of strings, lists and mappings rather than JavaScript types', () => {
    expect(message(schema, { name: 'a', items: 'x' })).toBe('items: got "x", expected a list');
    expect(message(schema, { name: 'a', items: [[]] })).toBe(
      'items[0]: got an empty list, expected a mapping',
    );
    expect(message(schema, { items: [] })).toBe('name: got nothing, expected a string');
    expect(message(z.object({ n: z.number().int() }), { n: 1.5 })).toBe(
      'n: got 1.5, expected a whole number',
    );
    expect(message(z.boolean(), 'yes')).toBe('(top level): got "yes", expected true or false');
  });

  it('lists allowed values and sizes plainly', () => {
    expect(message(z.enum(['token', 'iam']), 'ec2')).toBe(
      '(top level): got "ec2", expected one of "token", "iam"',
    );
    expect(message(z.literal('v1'), 'v2')).toBe('(top level): got "v2", expected "v1"');
    expect(message(z.array(z.string()).min(1), [])).toBe(
      '(top level): got an empty list, expected at least 1 item',
    );
    expect(message(z.string().max(3), 'abcd')).toBe('(top level): got "abcd", expected at most 3 characters');
  });

  it('keeps a message the schema itself gives', () => {
    expect(message(z.string().min(1, 'expected a non-empty name'), '')).toBe(
      '(top level): got "", expected a non-empty name',
    );
  });

  it('names a refused record key and the reason', () => {
    const labels = z.record(z.string().regex(/^[a-z]+$/, 'expected lowercase letters'), z.string());
    expect(message(labels, { ok: 'x', 'Bad Key': 'y' }, { root: 'labels' })).toBe(
      'labels: key "Bad Key" is not accepted, expected lowercase letters',
    );
  });

  it('shows where a path sits in the source when it can', () => {
    const locate = (path: readonly PropertyKey[]) => (path[0] === 'items' ? 'line 3' : undefined);
    expect(message(schema, { name: 'a', items: [{ port: 'x' }] }, { locate })).toBe(
      'items[0].port (line 3): got "x", expected a number',
    );
    expect(message(schema, { name: 'a', items: [], extra: 1 }, { locate })).toBe(
      '(top level): unknown key "extra"; remove it or check the spelling',
    );
  });

  it('shows dates as ISO times', () => {
    expect(message(z.string(), new Date('2030-01-01T00:00:00Z'))).toBe(
      '(top level): got 2030-01-01T00:00:00.000Z, expected a string',
    );
  });

  it('does not follow a path into the prototype', () => {
    expect(message(z.strictObject({ constructor: z.string() }), {})).toBe(
      'constructor: got nothing, expected a string',
    );
  });
});
