import type { Command } from 'commander';

/**
 * Options of `command` whose environment variable is set but empty count as not given: a CI variable
 * declared and never filled in (`MID_DATA_DIR=`) then changes nothing, instead of naming an empty
 * path or address. Run as a `preAction` hook, after commander has read the environment.
 */
export function ignoreEmptyEnvironment(command: Command, optionKeys: readonly string[]): void {
  for (const key of optionKeys) {
    if (command.getOptionValueSource(key) === 'env' && command.getOptionValue(key) === '') {
      command.setOptionValueWithSource(key, undefined, 'default');
    }
  }
}
