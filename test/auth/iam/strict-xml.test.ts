import { describe, expect, it } from 'vitest';
import { parseStrictXml } from '../../../lib/auth/iam/strict-xml.js';

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
    ['a DOCTYPE', '<!DOCTYPE a><a/>'],
    ['an internal entity', '<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>'],
    ['an undeclared entity', '<a>&e;</a>'],
    ['a bare ampersand', '<a>a & b</a>'],
    ['a comment', '<a><!-- x --></a>'],
    ['CDATA', '<a><![CDATA[x]]></a>'],
    ['a processing instruction', '<a><?x y?></a>'],
    ['a second root', '<a/><b/>'],
    ['mismatched tags', '<a></b>'],
    ['a repeated attribute', '<a x="1" x="2"/>'],
    ['an unquoted attribute', '<a x=1/>'],
    ['a namespace prefix', '<p:a/>'],
    ['mixed content', '<a>text<b/></a>'],
    ['a reference to NUL', '<a>&#0;</a>'],
    ['a reference to a surrogate', '<a>&#xD800;</a>'],
    ['deep nesting', `${'<a>'.repeat(9)}${'</a>'.repeat(9)}`],
    ['too many elements', `<a>${'<b/>'.repeat(64)}</a>`],
    ['an unclosed element', '<a><b></b>'],
  ])('refuses %s', (_what, document) => {
    expect(() => parseStrictXml(document)).toThrow();
  });
});
