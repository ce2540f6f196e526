const TEMPLATE = /^\{\{\s*(internal|external)\.([A-Za-z0-9_.:-]{1,64})\s*\}\}$/;

/** A trait template as roles write it: `{{internal.logins}}` or `{{external.groups}}`. */
export interface TraitTemplate {
  readonly scope: 'internal' | 'external';
  /** The trait's name: `logins` for `{{internal.logins}}`. */
  readonly trait: string;
}

/** The form a template must take, as error messages state it. */
export const TRAIT_TEMPLATE_RULE =
  'a trait template is the whole value and reads {{internal.<trait>}} or {{external.<trait>}}, e.g. {{internal.logins}}; functions and text around the braces are not supported';

/** Whether `value` is meant as a template (it has braces), valid or not. */
export function looksLikeTraitTemplate(value: string): boolean {
  return value.includes('{{') || value.includes('}}');
}

/** The template in `value`, or undefined when `value` is not exactly one valid template. */
export function parseTraitTemplate(value: string): TraitTemplate | undefined {
  const match = TEMPLATE.exec(value);
  if (match === null) return undefined;
  return { scope: match[1] as 'internal' | 'external', trait: match[2] as string };
}

/**
 * Replaces each template in `values` by the values of the trait it names, keeps literal values as they
 * are, and removes duplicates (first occurrence wins). `{{internal.x}}` and `{{external.x}}` both read
 * trait `x`, as Teleport does for users whose traits come from one place. A trait that is missing
 * expands to nothing.
 *
 * A value that has braces but is not a valid template is dropped rather than used literally: schemas
 * refuse such values, so one here came from elsewhere, and the safe reading of it is "nothing".
 *
 * @param accept keeps only expanded values that pass (e.g. `isPosixLogin` for logins), since trait
 *   values are not checked against the field a template is used in. Literal values are not filtered.
 * @example
 * expandTraitTemplates(['root', '{{internal.logins}}'], { logins: ['ubuntu', 'root'] }); // ['root', 'ubuntu']
 */
export function expandTraitTemplates(
  values: readonly string[],
  traits: Readonly<Record<string, readonly string[]>>,
  accept: (value: string) => boolean = () => true,
): string[] {
  const out = new Set<string>();
  for (const value of values) {
    if (!looksLikeTraitTemplate(value)) {
      out.add(value);
      continue;
    }
    const template = parseTraitTemplate(value);
    if (template === undefined) continue;
    // Own properties only: a trait called `constructor` must not find Object's.
    const expanded = Object.hasOwn(traits, template.trait) ? traits[template.trait] : undefined;
    for (const item of expanded ?? []) if (accept(item)) out.add(item);
  }
  return [...out];
}
