/**
 * Characters that never belong in a name, label or principal: C0/C1 controls, DEL, zero-width and
 * byte-order marks, line/paragraph separators and bidirectional overrides. They are invisible or
 * reorder text, so a value holding one can look like another value in a log, a listing or a certificate.
 */
export const UNSAFE_CHARACTER =
  /[\u0000-\u001f\u007f-\u009f\u00ad\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/u;

const UNSAFE_CHARACTERS = new RegExp(UNSAFE_CHARACTER.source, 'gu');

/**
 * `value` as a JSON string with every unsafe character escaped (`\u202e`), for quoting input back in
 * an error: JSON.stringify escapes controls but leaves a direction override to reorder the message.
 */
export function visibleJson(value: string): string {
  return JSON.stringify(value).replace(
    UNSAFE_CHARACTERS,
    (character) => `\\u${(character.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`,
  );
}
