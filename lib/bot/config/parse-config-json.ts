import { ConfigError } from '../../core/errors.js';
import { formatPath } from '../../core/schema.js';
import { firstDuplicateKey } from '../../core/strict-json.js';
import { checkConfigSize } from './config-size.js';

/**
 * Reads a config written as JSON, the form the MachineIdBot construct puts in `MID_BOT_CONFIG`, as
 * strictly as `parseConfigYaml` reads YAML: the same size limit, and a key repeated in one object is
 * refused (`JSON.parse` would keep the last value silently). Reading JSON needs no YAML parser, so the
 * bot Lambda never loads one for the config its construct wrote.
 *
 * @returns the document, or `undefined` when the text is not a JSON object. The YAML reader takes such
 *   text: a YAML flow mapping starts with `{` too, and for broken JSON its errors give line and column.
 */
export function parseConfigJson(text: string, source: string): unknown {
  if (!text.trimStart().startsWith('{')) return undefined;
  checkConfigSize(text, source);
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    return undefined;
  }
  const duplicate = firstDuplicateKey(text);
  if (duplicate !== undefined) {
    // Keys are never secret, unlike the values after them; a long one is cut short.
    const path = duplicate.map((part) => (typeof part === 'string' ? part.slice(0, 64) : part));
    throw new ConfigError(
      'invalid_config',
      `${source}: ${formatPath(path)}: duplicate key ${JSON.stringify(path[path.length - 1])}; each key may appear once in a mapping; remove or merge the duplicate`,
    );
  }
  return document;
}
