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
    expect(parseWithSchema(schema, { name: 'a', items: [{ port: 1 }] })).toEqual({ name: 'a', items: [{ port: 1 }] });
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

  it('never echoes a redacted value', () => {
    try {
      parseWithSchema(schema, { name: 'a', items: [], token: 42 }, { redact: ['token'] });
      expect.unreachable();
    } catch (error) {
      expect(String(error)).toContain('(value hidden)');
      expect(String(error)).not.toContain('42');
    }
  });

  it('raises the error family the caller asks for', () => {
    expect(() =>
      parseWithSchema(schema, {}, { error: (code, message) => new ConfigError(code, message), code: 'bad_config' }),
    ).toThrow(ConfigError);
  });
});
