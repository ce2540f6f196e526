/**
 * Commander's own refusals (an unknown option, a missing argument, a bad choice) in the shape of every
 * other error of midctl and midbot: one `ERROR:` line. Commander writes `error: …`, sometimes with a
 * suggestion on a second line (`(Did you mean --format?)`); both go on the one line, with the hint to
 * the usage.
 */
export function asOneErrorLine(text: string): string {
  const [first = '', ...more] = text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const suggestions = more.map((line) => line.replace(/^\(Did you mean (.*)\)$/, 'did you mean $1'));
  return `ERROR: ${[first.replace(/^error: /, ''), ...suggestions].join('; ')} (run with --help for usage)`;
}
