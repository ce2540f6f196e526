/**
 * One-pass scans of a JSON text for what `JSON.parse` accepts silently but a strict reader refuses:
 * request bodies (`parseJsonBody`) and bot config text (`parseConfigJson`) share them.
 */

/** Depth of brackets outside strings, found in one pass without parsing. */
export function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i];
    if (inString) {
      if (char === '\\') i += 1;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (char === '{' || char === '[') deepest = Math.max(deepest, ++depth);
    else if (char === '}' || char === ']') depth -= 1;
  }
  return deepest;
}

interface Frame {
  /** Keys seen so far, for an object; undefined for an array. */
  readonly keys?: Set<string>;
  /** The key or index whose value is being read. */
  key?: string;
  index: number;
  expectKey: boolean;
}

/**
 * The path of the first key that appears twice in one object of a valid JSON text, or undefined.
 * `JSON.parse` keeps the last value silently; anything else reading the same text (a proxy, a log
 * pipeline) may keep the first, so a text with a repeated key means two things and is refused, as
 * YAML files with a repeated key are.
 */
export function firstDuplicateKey(text: string): Array<string | number> | undefined {
  const stack: Frame[] = [];
  for (let i = 0; i < text.length; i += 1) {
    const char = text[i];
    if (char === '"') {
      let end = i + 1;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const top = stack[stack.length - 1];
      if (top?.keys !== undefined && top.expectKey) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (top.keys.has(key)) {
          return [
            ...stack.slice(0, -1).map((frame) => (frame.keys ? (frame.key as string) : frame.index)),
            key,
          ];
        }
        top.keys.add(key);
        top.key = key;
        top.expectKey = false;
      }
      i = end;
    } else if (char === '{') stack.push({ keys: new Set(), index: 0, expectKey: true });
    else if (char === '[') stack.push({ index: 0, expectKey: false });
    else if (char === '}' || char === ']') stack.pop();
    else if (char === ',') {
      const top = stack[stack.length - 1];
      if (top?.keys !== undefined) top.expectKey = true;
      else if (top !== undefined) top.index += 1;
    }
  }
  return undefined;
}
