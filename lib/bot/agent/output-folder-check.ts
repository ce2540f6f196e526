import { artifactNames } from '../render/artifact-names.js';
import { BotRunError } from './bot-run-error.js';
import { describeOutputTarget, type ResolvedOutput } from './output-destinations.js';
import { specificTlsNamingOf } from './output-writer.js';

/**
 * Before a join spends the token: a folder an output cannot write would otherwise be found only after
 * it, and with memory storage the identity, and the token with it, would be lost when midbot exits.
 * Only probes: no artifact is written, removed or changed.
 */
export async function checkOutputsWritable(outputs: readonly ResolvedOutput[]): Promise<void> {
  for (const output of outputs) {
    try {
      await output.destination.checkWritable?.(
        artifactNames(output.config.type, { specificTlsNaming: specificTlsNamingOf(output.config) }),
      );
    } catch (error) {
      throw new BotRunError(
        `checking that outputs[${output.index}] (${describeOutputTarget(output.config)}) can be written`,
        error,
        {
          hint: "midbot checks every output's folder before it joins with a token, so the token is not spent: once the folder is fixed, the same token joins.",
        },
      );
    }
  }
}
