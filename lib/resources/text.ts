import * as z from 'zod';
import { UNSAFE_CHARACTER } from '../core/visible-text.js';

/** Names a character for an error message so that an invisible one is still visible. */
export function describeCharacter(character: string): string {
  if (character === ' ') return 'a space';
  if (character === '\n' || character === '\r') return 'a line break';
  if (character === '\t') return 'a tab';
  if (UNSAFE_CHARACTER.test(character)) {
    const code = character.codePointAt(0) ?? 0;
    return `the invisible character U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  }
  return JSON.stringify(character);
}

/** The first control, invisible or direction-changing character in `value`, if any. */
export function findUnsafeCharacter(value: string): string | undefined {
  return UNSAFE_CHARACTER.exec(value)?.[0];
}

/** The first character of `value` outside `allowed` (a one-character class such as `/[a-z]/`). */
export function findCharacterOutside(value: string, allowed: RegExp): string | undefined {
  for (const character of value) if (!allowed.test(character)) return character;
  return undefined;
}

/**
 * A string schema whose rule is a function returning what is wrong (or undefined), so every refusal
 * can say precisely which character or limit was the problem and then state the whole rule.
 */
export function checkedString(problemOf: (value: string) => string | undefined): z.ZodString {
  return z.string().superRefine((value, ctx) => {
    const problem = problemOf(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem, input: value });
  });
}
