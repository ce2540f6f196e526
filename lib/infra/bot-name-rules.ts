import { resourceNameProblem } from '../resources/metadata.js';
import type { BotFieldWords, BotRuleProblem } from './bot-rules.js';

/**
 * The rule for a bot's name, written once for the `MachineIdBot` construct (`botName`) and the deployment
 * file (`name`), each refusal in the reader's words ({@link BotFieldWords}). No CDK import here, so that
 * the deployment schema can use it.
 */

/** The name of the `iam` join token a deployed bot joins with. */
export function iamTokenName(botName: string): string {
  return `${botName}-iam`;
}

/** `<botName>-iam` must itself be a valid resource name (at most 63 characters). */
const MAX_BOT_NAME = 63 - iamTokenName('').length;

/**
 * What keeps `name` from naming a deployed bot, or undefined. The length is checked first: a name over
 * 63 characters told the general rule ("1 to 63") would be shortened to 63, and refused again at 59.
 */
export function botNameProblem(name: string, words: BotFieldWords): BotRuleProblem | undefined {
  const { botName } = words.field;
  if (name.length > MAX_BOT_NAME) {
    return {
      fields: ['botName'],
      message: `${botName} "${name}" is ${name.length} characters long; at most ${MAX_BOT_NAME}, so that its join token "${iamTokenName(name)}" is a valid name`,
    };
  }
  const problem = resourceNameProblem(name);
  return problem === undefined
    ? undefined
    : { fields: ['botName'], message: `${botName} "${name}" cannot be used: ${problem}` };
}
