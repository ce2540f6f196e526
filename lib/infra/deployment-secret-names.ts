import type * as z from 'zod';
import { defaultSecretNamePrefix } from './secret-name-prefix-rule.js';

/** What a bot of the file says about the secrets it writes. */
interface SecretWriter {
  readonly name: string;
  readonly secret_name_prefix?: string | undefined;
  readonly outputs: ReadonlyArray<{ readonly name: string }>;
}

/**
 * Two bots whose outputs would write the same secret (`secret_name_prefix` + output name, the prefix
 * `machine-id/<bot>/` when unset): CloudFormation would fail the deploy at the second secret, after
 * the auth service and every bot before it were made, and at run time each bot would overwrite the
 * other's. Refused at the second, naming the first.
 */
export function refuseSharedSecretNames(bots: readonly SecretWriter[], ctx: z.RefinementCtx): void {
  // A bot name given twice is refused as such (its secrets clash as a consequence).
  if (new Set(bots.map((bot) => bot.name)).size < bots.length) return;
  const writers = new Map<string, { bot: number; output: number }>();
  bots.forEach((bot, botIndex) => {
    const prefix = bot.secret_name_prefix ?? defaultSecretNamePrefix(bot.name);
    bot.outputs.forEach((output, outputIndex) => {
      const secret = `${prefix}${output.name}`;
      const first = writers.get(secret);
      if (first === undefined) {
        writers.set(secret, { bot: botIndex, output: outputIndex });
        return;
      }
      if (first.bot === botIndex) return;
      const firstBot = bots[first.bot];
      ctx.addIssue({
        code: 'custom',
        path: [
          botIndex,
          ...(bot.secret_name_prefix === undefined
            ? ['outputs', outputIndex, 'name']
            : ['secret_name_prefix']),
        ],
        message: `output "${output.name}" of bot "${bot.name}" would write the secret "${secret}", which output "${firstBot?.outputs[first.output]?.name}" of bot "${firstBot?.name}" (bots[${first.bot}].outputs[${first.output}]) writes already; give one of the bots another secret_name_prefix`,
      });
    });
  });
}
