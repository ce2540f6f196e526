import type { Document, LineCounter, Node } from 'yaml';

/** Where the value at a path was written in a source text (`line 12`), or undefined when unknown. */
export type Locate = (path: readonly PropertyKey[]) => string | undefined;

/**
 * The line of a parsed YAML document at which each path's value starts, for errors that name a key
 * path: `outputs[2].destination (line 14)`. A path that goes past what the document holds (a missing
 * key) points at the nearest value above it, where the key would go.
 */
export function yamlLocator(doc: Document.Parsed, lines: LineCounter): Locate {
  return (path) => {
    for (let length = path.length; length >= 0; length--) {
      const node = doc.getIn(path.slice(0, length) as unknown[], true) as Node | undefined;
      if (node?.range) return `line ${lines.linePos(node.range[0]).line}`;
    }
    return undefined;
  };
}
