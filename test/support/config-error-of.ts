import { expect } from 'vitest';
import { ConfigError } from '../../lib/core/errors.js';

/** The message of the ConfigError `action` throws; fails the test when it throws none or another. */
export function configErrorOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  return expect.unreachable('expected a ConfigError');
}
