import { type Document, isMap, isScalar, type LineCounter, type Node } from 'yaml';

/** Where the value at a path was written in a source text (`line 12`), or undefined when unknown. */
export type Locate = (path: readonly PropertyKey[]) => string | undefined;

/**
 * The line of a parsed YAML document at which each path is written, for errors that name a key path:
 * `outputs[2].destination (line 14)`. A path ending in a key points at the key, not at its value: a
 * block value starts on the line below (`alow:` on line 6, its mapping on line 7). A path that goes
 * past what the document holds (a missing key) points at the nearest value above it, where the key
 * would go.
 */
export function yamlLocator(doc: Document.Parsed, lines: LineCounter): Locate {
  const lineOf = (node: Node | undefined) =>
    node?.range ? `line ${lines.linePos(node.range[0]).line}` : undefined;
  return (path) => {
    const key = keyNode(doc, path);
    if (key !== undefined) return lineOf(key);
    for (let length = path.length; length >= 0; length--) {
      const line = lineOf(doc.getIn(path.slice(0, length) as unknown[], true) as Node | undefined);
      if (line !== undefined) return line;
    }
    return undefined;
  };
}

/** The key node of the last step of `path` when that step is a key of a mapping in the document. */
function keyNode(doc: Document.Parsed, path: readonly PropertyKey[]): Node | undefined {
  const last = path.at(-1);
  if (typeof last !== 'string') return undefined;
  const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1) as unknown[], true);
  if (!isMap(parent)) return undefined;
  const pair = parent.items.find((item) => isScalar(item.key) && item.key.value === last);
  return isScalar(pair?.key) ? pair.key : undefined;
}
