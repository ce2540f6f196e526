import type { LabelSelector } from './metadata.js';

/**
 * Whether `value` matches `pattern`, where `*` stands for any run of characters (including none, and
 * including "/" and "."), and everything else is literal and case-sensitive. No regular expression is
 * built from the pattern, and the matcher backtracks only to the last star, so a pattern full of stars
 * costs at most pattern length × value length steps.
 */
export function matchLabelValue(pattern: string, value: string): boolean {
  let p = 0;
  let v = 0;
  let star = -1;
  let resume = 0;
  while (v < value.length) {
    if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      resume = v;
    } else if (p < pattern.length && pattern[p] === value[v]) {
      p++;
      v++;
    } else if (star !== -1) {
      p = star + 1;
      v = ++resume;
    } else {
      return false;
    }
  }
  while (p < pattern.length && pattern[p] === '*') p++;
  return p === pattern.length;
}

/**
 * Teleport's label matching: an absent or empty selector matches nothing; `'*': '*'` matches
 * everything; otherwise every key of the selector must be a label of the resource whose value matches
 * one of the selector's values (`*` alone is any value, `*` inside a value a wildcard).
 *
 * @example
 * matchLabels({ env: ['staging', 'prod'], team: 'web-*' }, { env: 'prod', team: 'web-eu' }); // true
 */
export function matchLabels(
  selector: LabelSelector | undefined,
  labels: Readonly<Record<string, string>>,
): boolean {
  if (selector === undefined) return false;
  const entries = Object.entries(selector);
  if (entries.length === 0) return false;
  const wildcard = Object.hasOwn(selector, '*') ? selector['*'] : undefined;
  if (wildcard !== undefined) {
    // `'*': 'x'` is refused by the schema; one that gets here anyway matches nothing.
    return (Array.isArray(wildcard) ? wildcard : [wildcard]).every((value) => value === '*');
  }
  return entries.every(([key, wanted]) => {
    if (!Object.hasOwn(labels, key)) return false;
    const value = labels[key] as string;
    const patterns = Array.isArray(wanted) ? wanted : [wanted];
    return patterns.some((pattern) => matchLabelValue(pattern, value));
  });
}
