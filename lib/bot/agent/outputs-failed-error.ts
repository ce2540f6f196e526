import { MidError } from '../../core/errors.js';
import type { RunSummary } from './run-summary.js';

/**
 * A run that renewed the identity but could not write some outputs (`--oneshot` exits non-zero with
 * it). The outputs that failed kept their previous artifacts.
 */
export class OutputsFailedError extends MidError {
  constructor(readonly summary: RunSummary) {
    const failed = summary.outputs.filter((output) => output.status === 'failed');
    const first = failed[0];
    super(
      first?.code ?? 'outputs_failed',
      `${failed.length} of ${summary.outputs.length} output${summary.outputs.length === 1 ? '' : 's'} failed (their previous artifacts stay in place): ${failed
        .map(
          (output) =>
            `outputs[${output.index}] (${output.target}, ${output.destination}): ${output.status === 'failed' ? output.message : ''}`,
        )
        .join('; ')}`,
    );
  }
}
