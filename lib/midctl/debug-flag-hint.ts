/**
 * tctl, teleport and tbot (midbot too) take `-d` for `--debug`; here it is `--data-dir`, so a `-d`
 * typed out of habit ends in "argument missing": say what was meant.
 */
export function withDebugFlagHint(text: string): string {
  if (!text.includes("option '-d, --data-dir <dir>' argument missing")) return text;
  return text.replace(
    /\n?$/,
    // A line of its own: the one-line error puts it after commander's, which it rewords.
    '\n-d is --data-dir in midctl: for debug logs, use --debug (midctl auth start --debug)\n',
  );
}
