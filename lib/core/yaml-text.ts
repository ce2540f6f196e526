/** Plain data that {@link toYamlText} writes. */
export type YamlData =
  | string
  | number
  | boolean
  | null
  | undefined
  | readonly YamlData[]
  | { readonly [key: string]: YamlData };

/**
 * Block-style YAML for plain data, laid out as the `yaml` package lays it out with `indent: 2` and no
 * line folding; keys whose value is undefined are left out. For the small documents the agent writes
 * (kubeconfig, the v2 text of the v1 conversion warning): the YAML library stays out of the agent's
 * import path, so the bot Lambda's cold start never loads it.
 */
export function toYamlText(data: YamlData): string {
  const node = yamlNode(data);
  return `${typeof node === 'string' ? node : node.join('\n')}\n`;
}

/** One line for a scalar or an empty collection; the lines of a block otherwise. */
function yamlNode(data: YamlData): string | string[] {
  if (data === null || data === undefined) return 'null';
  if (typeof data === 'string') return yamlString(data);
  if (typeof data === 'number' || typeof data === 'boolean') return String(data);
  if (Array.isArray(data)) {
    if (data.length === 0) return '[]';
    return (data as readonly YamlData[]).flatMap((item) => {
      const node = yamlNode(item);
      if (typeof node === 'string') return [`- ${node}`];
      const [first, ...rest] = node;
      return [`- ${first}`, ...rest.map((line) => `  ${line}`)];
    });
  }
  const entries = Object.entries(data).filter(([, value]) => value !== undefined);
  if (entries.length === 0) return '{}';
  return entries.flatMap(([key, value]) => {
    const node = yamlNode(value);
    if (typeof node === 'string') return [`${yamlString(key)}: ${node}`];
    return [`${yamlString(key)}:`, ...node.map((line) => `  ${line}`)];
  });
}

/** Text that is a plain YAML scalar: no indicator first, no quote, space, `#`, `,` or brackets. */
const PLAIN = /^[A-Za-z0-9_/][A-Za-z0-9._/:+=@-]*$/;
/** What YAML 1.1 or 1.2 may read as a number, a date or a time: a digit first and only such characters. */
const NUMBER_LIKE = /^[0-9][0-9a-fA-FoOxXtTzZ._:+-]*$/;
/** The booleans and nulls of YAML 1.1 and 1.2. */
const KEYWORD =
  /^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL)$/;

/**
 * `value` as a YAML scalar that every YAML reader takes back as this very string: plain when it cannot
 * be read as anything else, double-quoted otherwise. "Anything else" is judged by YAML 1.1 too, which
 * kubectl reads (`yes`, `on` and `2030-01-01` are not strings there).
 */
export function yamlString(value: string): string {
  const plain = PLAIN.test(value) && !value.endsWith(':') && !NUMBER_LIKE.test(value) && !KEYWORD.test(value);
  return plain ? value : doubleQuoted(value);
}

/**
 * JSON's string escapes are YAML's. Characters beyond ASCII are escaped as well: YAML forbids some of
 * them raw (C1 controls, U+FEFF) and YAML 1.1 breaks lines at U+2028 and U+2029.
 */
function doubleQuoted(value: string): string {
  return JSON.stringify(value).replace(/[^\x20-\x7e]/gu, (character) => {
    const code = character.codePointAt(0) ?? 0;
    return code > 0xffff
      ? `\\U${code.toString(16).padStart(8, '0')}`
      : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
