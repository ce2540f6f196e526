/**
 * C0/C1 controls and DEL, Unicode line and paragraph separators, and unpaired surrogates (which have no
 * UTF-8 form). Any of these in a name can split a log line, fool a person reading `openssl x509 -text`
 * or `ssh-keygen -L`, or be decoded differently by different tools.
 */
const UNSAFE_TEXT = /[\p{Cc}\p{Zl}\p{Zp}\p{Cs}]/u;

export function hasUnsafeText(value: string): boolean {
  return UNSAFE_TEXT.test(value);
}
