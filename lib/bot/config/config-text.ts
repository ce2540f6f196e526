import { valueAt } from '../../core/schema.js';
import type { Locate } from '../../core/yaml-locator.js';

/**
 * A config file read into a plain document, with where each value was written when the reader knows
 * (YAML: `line 12`), so that an error names the line as well as the key path.
 */
export interface ConfigText {
  readonly document: unknown;
  readonly locate?: Locate | undefined;
}

/**
 * `locate` for the values `document` holds: a missing key has no line of its own (the nearest value
 * above it would point at the wrong line), so the error names its key path alone.
 */
export function locateHeldValues(document: unknown, locate: Locate | undefined): Locate | undefined {
  if (locate === undefined) return undefined;
  return (path) => (valueAt(document, path) === undefined ? undefined : locate(path));
}
