import { expect } from 'vitest';
import { ConfigError } from '../../lib/core/errors.js';

/** Runs `run`, expects a ConfigError with `code`, and returns its message for content checks. */
export function configErrorOf(run: () => unknown, code = 'invalid_resource'): string {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe(code);
    return (error as ConfigError).message;
  }
  return expect.unreachable('expected a ConfigError');
}

/** A deep copy of `value` with `patch` applied at the dotted `path` (`undefined` deletes the key). */
export function withField<T>(value: T, path: string, patch: unknown): T {
  const copy = structuredClone(value) as Record<string, unknown>;
  const keys = path.split('.');
  let target = copy;
  for (const key of keys.slice(0, -1)) target = target[key] as Record<string, unknown>;
  const last = keys[keys.length - 1] as string;
  if (patch === undefined) delete target[last];
  else target[last] = patch;
  return copy as T;
}
