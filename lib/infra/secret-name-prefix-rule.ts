import { describeCharacter, findCharacterOutside } from '../resources/text.js';
import type { BotFieldWords, BotRuleProblem } from './bot-rules.js';

/**
 * The rule for the prefix of a bot's output secret names (`<prefix><output name>`), written once for
 * the `MachineIdBot` construct (`secretNamePrefix`) and the deployment file (`secret_name_prefix`), each
 * refusal in the reader's words. Secrets Manager refuses a bad name only when the stack deploys, after
 * the auth service and every earlier bot were created, so it is refused before anything is deployed.
 */

/** The prefix of a bot's output secrets when none is given: `machine-id/<bot>/`. */
export function defaultSecretNamePrefix(botName: string): string {
  return `machine-id/${botName}/`;
}

/** The characters Secrets Manager takes in a secret name. */
const SECRET_NAME_CHARACTER = /[A-Za-z0-9/_+=.@-]/;
/** A prefix the output name would run into. */
const ENDS_IN_LETTER_OR_DIGIT = /[A-Za-z0-9]$/;
/** Secrets Manager's longest secret name. */
const MAX_SECRET_NAME = 512;

/** What keeps `prefix` from starting the names of the secrets of outputs `outputNames`, or undefined. */
export function secretNamePrefixProblem(
  prefix: string,
  outputNames: readonly string[],
  words: BotFieldWords,
): BotRuleProblem | undefined {
  const field = words.field.secretNamePrefix;
  const bad = findCharacterOutside(prefix, SECRET_NAME_CHARACTER);
  if (bad !== undefined) {
    return {
      fields: ['secretNamePrefix'],
      message: `${field} "${prefix}" cannot start a secret name: ${describeCharacter(bad)} is not allowed; use letters, digits and / _ + = . @ -`,
    };
  }
  const longest = outputNames.reduce((a, b) => (b.length > a.length ? b : a), '');
  const length = prefix.length + longest.length;
  if (length > MAX_SECRET_NAME) {
    return {
      fields: ['secretNamePrefix'],
      message: `${field} is ${prefix.length} characters long, so the secret of output "${longest}" would have a name of ${length}; Secrets Manager takes at most ${MAX_SECRET_NAME}, so shorten ${field}`,
    };
  }
  // The output name is appended as is: `machine-id` makes `machine-idgrafana`, a secret no consumer
  // looking under `machine-id/` would find. A prefix for flat names ends in a separator (`prod-`).
  if (!ENDS_IN_LETTER_OR_DIGIT.test(prefix)) return undefined;
  const [first = 'NAME'] = outputNames;
  return {
    fields: ['secretNamePrefix'],
    message: `${field} "${prefix}" does not end in a separator, so the secret of output "${first}" would be named "${prefix}${first}"; end it with "/" ("${prefix}/", making "${prefix}/${first}"), or another of _ + = . @ - for names without folders`,
  };
}
