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
  return `ERROR: ${[inOurWords(first.replace(/^error: /, '')), ...suggestions].join('; ')} (run with --help for usage)`;
}

/** The flag of commander's `'-d, --data-dir <dir>'`: its long name. */
const FLAG = "'(?:-\\w, )?(--[\\w-]+)[^']*'";

/**
 * Commander's refusals of a flag's value, worded as midctl's and midbot's own (`--ttl: got "2 weeks",
 * …`): the flag first, as typed, then what was wrong. Anything else commander says is kept as it is.
 */
const COMMANDER_WORDING: ReadonlyArray<readonly [RegExp, string]> = [
  [
    new RegExp(`^option ${FLAG} argument '(.*)' is invalid\\. Allowed choices are (.*)\\.$`),
    '$1: got "$2", expected one of $3',
  ],
  [new RegExp(`^required option ${FLAG} not specified$`), '$1 is required, and was not given'],
  [new RegExp(`^option ${FLAG} argument missing$`), '$1: expected a value after it'],
];

function inOurWords(message: string): string {
  for (const [pattern, words] of COMMANDER_WORDING) {
    if (pattern.test(message)) return message.replace(pattern, words);
  }
  return message;
}
