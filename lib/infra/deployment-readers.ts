import { ConfigError } from '../core/errors.js';
import type { DeploymentBot } from './deployment.js';

/**
 * Refuses a reader listed twice in one bot's `readers:`, at the second, naming the first with its line.
 * The stack would deploy it as one, so nothing breaks; but a list of role ARNs is most often copied and
 * edited, and a repeated ARN is then most likely the reader that was meant to be changed, which would
 * be left without access until someone noticed.
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
    readers.forEach((reader, index) => {
      const first = readers.indexOf(reader);
      if (first === index) return;
      const at = (i: number) => {
        const line = locate(['bots', botIndex, 'readers', i]);
        return `bots[${botIndex}].readers[${i}]${line === undefined ? '' : ` (${line})`}`;
      };
      throw new ConfigError(
        'invalid_deployment',
        `${source}: ${at(index)}: ${reader} is listed already as ${at(first)}; list each reader once (if one of them was meant to be another role, put its ARN there)`,
      );
    });
  });
}
