import { ConfigError } from '../core/errors.js';
import type { DeploymentBot } from './deployment.js';
import { repeatedReaderProblem } from './repeated-reader-rule.js';

/**
 * Refuses a reader listed twice in one bot's `readers:`, at the second, naming the first with its line
 * (`repeated-reader-rule.ts` says why).
 *
 * @throws ConfigError `invalid_deployment`.
 */
export function refuseRepeatedReaders(
  bots: readonly DeploymentBot[],
  source: string,
  locate: (path: readonly PropertyKey[]) => string | undefined,
): void {
  bots.forEach((bot, botIndex) => {
    const readers = bot.readers ?? [];
    const problem = repeatedReaderProblem(readers, (reader) => reader, {
      at: (index) => {
        const line = locate(['bots', botIndex, 'readers', index]);
        return `bots[${botIndex}].readers[${index}]${line === undefined ? '' : ` (${line})`}`;
      },
      reader: (index) => readers[index] ?? '',
      instead: 'another role, put its ARN there',
    });
    if (problem !== undefined) throw new ConfigError('invalid_deployment', `${source}: ${problem}`);
  });
}
