/** One element of a small, strictly parsed XML document. */
export interface XmlElement {
  readonly name: string;
  readonly attributes: ReadonlyMap<string, string>;
  readonly children: readonly XmlElement[];
  /** Character data of a leaf element (entities decoded); empty for elements with children. */
  readonly text: string;
}

export class XmlError extends Error {}

const NAME = /^[A-Za-z_][A-Za-z0-9_.-]{0,63}/;
const ATTRIBUTE_NAME = /^[A-Za-z_][A-Za-z0-9_.:-]{0,63}/;
const DECLARATION =
  /^<\?xml version="1\.[01]"(?: encoding="(?:UTF-8|utf-8)")?(?: standalone="(?:yes|no)")?\s*\?>/;
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };
const MAX_DEPTH = 8;
const MAX_ELEMENTS = 64;

/** Decodes the five predefined entities and character references; any other entity is refused. */
function decode(text: string): string {
  if (text.includes('<')) throw new XmlError('"<" inside character data');
  return text.replace(/&([^;]{0,10});?/g, (whole, body: string) => {
    if (!whole.endsWith(';')) throw new XmlError('an "&" that starts no entity');
    const predefined = PREDEFINED[body];
    if (predefined !== undefined) return predefined;
    const numeric = /^#(?:x([0-9A-Fa-f]{1,6})|([0-9]{1,7}))$/.exec(body);
    if (numeric === null) throw new XmlError(`the entity &${body}; is not allowed`);
    const code = numeric[1] !== undefined ? Number.parseInt(numeric[1], 16) : Number(numeric[2]);
    if (code === 0 || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) {
      throw new XmlError('a character reference to an invalid character');
    }
    return String.fromCodePoint(code);
  });
}

/**
 * A deliberately small XML parser for AWS query-protocol answers: elements, attributes and text only.
 * DOCTYPE, entities other than the predefined five, comments, CDATA, processing instructions (except a
 * leading XML declaration), mixed content, namespace prefixes on element names, and documents deeper
 * or larger than an STS answer ever is are all refused. There is nothing to expand and nothing to
 * fetch, so entity expansion and external entity attacks have nothing to work with.
 */
export function parseStrictXml(document: string): XmlElement {
  let position = 0;
  let elements = 0;
  const rest = () => document.slice(position);
  const skipSpace = () => {
    while (position < document.length && /\s/.test(document[position] as string)) position += 1;
  };

  const declaration = DECLARATION.exec(document.replace(/^\s+/, ''));
  skipSpace();
  if (declaration !== null) position += declaration[0].length;
  skipSpace();

  const parseElement = (depth: number): XmlElement => {
    if (depth > MAX_DEPTH) throw new XmlError('the document nests too deeply');
    elements += 1;
    if (elements > MAX_ELEMENTS) throw new XmlError('the document has too many elements');
    if (document.startsWith('<!', position) || document.startsWith('<?', position)) {
      throw new XmlError('DOCTYPE, comments, CDATA and processing instructions are not allowed');
    }
    if (document[position] !== '<') throw new XmlError('expected an element');
    position += 1;
    const name = NAME.exec(rest())?.[0];
    if (name === undefined) throw new XmlError('an element without a valid name');
    position += name.length;
    const attributes = new Map<string, string>();
    for (;;) {
      const before = position;
      skipSpace();
      if (document.startsWith('/>', position)) {
        position += 2;
        return { name, attributes, children: [], text: '' };
      }
      if (document[position] === '>') {
        position += 1;
        break;
      }
      if (position === before) throw new XmlError(`a malformed start tag <${name}>`);
      const attribute = ATTRIBUTE_NAME.exec(rest())?.[0];
      if (attribute === undefined) throw new XmlError(`a malformed attribute in <${name}>`);
      position += attribute.length;
      const quoted = /^="([^"<]*)"|^='([^'<]*)'/.exec(rest());
      if (quoted === null) throw new XmlError(`the attribute ${attribute} of <${name}> has no quoted value`);
      position += quoted[0].length;
      if (attributes.has(attribute)) throw new XmlError(`<${name}> repeats the attribute ${attribute}`);
      attributes.set(attribute, decode(quoted[1] ?? quoted[2] ?? ''));
    }
    const children: XmlElement[] = [];
    let text = '';
    for (;;) {
      const next = document.indexOf('<', position);
      if (next === -1) throw new XmlError(`<${name}> is never closed`);
      text += document.slice(position, next);
      position = next;
      if (document.startsWith('</', position)) {
        position += 2;
        if (!document.startsWith(name, position)) throw new XmlError(`<${name}> is closed by another tag`);
        position += name.length;
        skipSpace();
        if (document[position] !== '>') throw new XmlError(`a malformed end tag </${name}>`);
        position += 1;
        break;
      }
      children.push(parseElement(depth + 1));
    }
    if (children.length > 0) {
      if (text.trim() !== '') throw new XmlError(`<${name}> mixes text and elements`);
      return { name, attributes, children, text: '' };
    }
    return { name, attributes, children, text: decode(text) };
  };

  const root = parseElement(1);
  skipSpace();
  if (position !== document.length) throw new XmlError('there is content after the document element');
  return root;
}
