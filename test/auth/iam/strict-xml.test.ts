import { describe, expect, it } from 'vitest';
import { parseStrictXml, XmlError } from '../../../lib/auth/iam/strict-xml.js';

describe('the strict XML parser', () => {
  it('reads elements, attributes and text with the predefined entities', () => {
    const root = parseStrictXml('<a x="1&amp;2"><b>&lt;&#65;&#x42;&gt;</b><c/></a>');
    expect(root.name).toBe('a');
    expect(root.attributes.get('x')).toBe('1&2');
    expect(root.children.map((child) => [child.name, child.text])).toEqual([
      ['b', '<AB>'],
      ['c', ''],
    ]);
  });

  it.each([
    ['a DOCTYPE', '<!DOCTYPE a><a/>', 'DOCTYPE, comments, CDATA and processing instructions are not allowed'],
    [
      'an internal entity',
      '<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>',
      'DOCTYPE, comments, CDATA and processing instructions are not allowed',
    ],
    ['an undeclared entity', '<a>&e;</a>', 'the entity &e; is not allowed'],
    ['a bare ampersand', '<a>a & b</a>', 'an "&" that starts no entity'],
    [
      'a comment',
      '<a><!-- x --></a>',
      'DOCTYPE, comments, CDATA and processing instructions are not allowed',
    ],
    ['CDATA', '<a><![CDATA[x]]></a>', 'DOCTYPE, comments, CDATA and processing instructions are not allowed'],
    [
      'a processing instruction',
      '<a><?x y?></a>',
      'DOCTYPE, comments, CDATA and processing instructions are not allowed',
    ],
    ['a second root', '<a/><b/>', 'there is content after the document element'],
    ['mismatched tags', '<a></b>', '<a> is closed by another tag'],
    ['a repeated attribute', '<a x="1" x="2"/>', '<a> repeats the attribute x'],
    ['an unquoted attribute', '<a x=1/>', 'the attribute x of <a> has no quoted value'],
    ['a namespace prefix', '<p:a/>', 'a malformed start tag <p>'],
    ['mixed content', '<a>text<b/></a>', '<a> mixes text and elements'],
    ['a reference to NUL', '<a>&#0;</a>', 'a character reference to an invalid character'],
    ['a reference to a surrogate', '<a>&#xD800;</a>', 'a character reference to an invalid character'],
    ['deep nesting', `${'<a>'.repeat(9)}${'</a>'.repeat(9)}`, 'the document nests too deeply'],
    ['too many elements', `<a>${'<b/>'.repeat(64)}</a>`, 'the document has too many elements'],
    ['an unclosed element', '<a><b></b>', '<a> is never closed'],
  ])('refuses %s, saying why', (_what, document, reason) => {
    expect(() => parseStrictXml(document)).toThrow(new XmlError(reason));
  });
});
