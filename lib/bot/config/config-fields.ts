import path from 'node:path';
import * as z from 'zod';

/*
 * The building blocks of the agent config's schemas, each with an error that says what to write
 * instead of zod's generic message ("expected a duration like 1h", "expected one of token, iam",
 * "this key is required").
 */

/** `expected one of a, b, c`. */
export const oneOf = (values: readonly string[]) => `expected one of ${values.join(', ')}`;

/** The message for a value of the wrong type (`expected …`), or for a missing one (`missing`, or `… (this key is required)`). */
export const expectedOrRequired = (expected: string, missing?: string) => (issue: { input?: unknown }) =>
  issue.input === undefined
    ? (missing ?? `expected ${expected} (this key is required)`)
    : `expected ${expected}`;

/** `z.string()` with a message that says what to write instead of zod's generic one. */
export function text(expected: string, missing?: string) {
  return z.string({ error: expectedOrRequired(expected, missing) });
}

/** `z.boolean()`, worded the same way. */
export function flag(expected: string) {
  return z.boolean({ error: expectedOrRequired(expected) });
}

/** `z.array(item)`, worded the same way. */
export function list<T extends z.ZodType>(item: T, expected: string) {
  return z.array(item, { error: expectedOrRequired(expected) });
}

/** `z.strictObject(shape)`, worded the same way when the value is no mapping. */
export function strictObject<T extends z.core.$ZodLooseShape>(shape: T, expected = 'a mapping') {
  return z.strictObject(shape, {
    error: (issue) => (issue.code === 'invalid_type' ? expectedOrRequired(expected)(issue) : undefined),
  });
}

/** A union on `type` whose error lists the accepted types, the way a person fixes it. */
export function byType<
  const T extends readonly [z.core.$ZodTypeDiscriminable, ...z.core.$ZodTypeDiscriminable[]],
>(options: T, types: readonly string[], what: string) {
  return z.discriminatedUnion('type', options, {
    error: (issue) => {
      if (issue.code === 'invalid_union') return oneOf(types);
      if (issue.code === 'invalid_type') {
        return expectedOrRequired(what)(issue);
      }
      return undefined;
    },
  });
}

/**
 * An absolute filesystem path without `..` segments, normalised (no trailing slash, no `//`).
 * Quotes, backslashes and control characters are refused too: the path ends up quoted inside ssh_config.
 */
export const absolutePathSchema = text('an absolute path such as /opt/machine-id').transform((value, ctx) => {
  if (!path.posix.isAbsolute(value)) {
    ctx.addIssue({
      code: 'custom',
      message: 'expected an absolute path (starting with /); relative paths change meaning under systemd',
    });
    return z.NEVER;
  }
  if (value.split('/').includes('..')) {
    ctx.addIssue({
      code: 'custom',
      message: 'expected a path without ".." segments; write the folder it means',
    });
    return z.NEVER;
  }
  if (/["\\\x00-\x1f\x7f]/.test(value)) {
    ctx.addIssue({
      code: 'custom',
      message: 'expected a path without quotes, backslashes or control characters',
    });
    return z.NEVER;
  }
  const normal = path.posix.normalize(value);
  return normal.length > 1 && normal.endsWith('/') ? normal.slice(0, -1) : normal;
});
