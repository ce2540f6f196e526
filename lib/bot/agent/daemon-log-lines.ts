import { formatDuration } from '../../core/duration.js';

/**
 * The failure of a run that wrote every output but these, which failed for a passing reason:
 * "2 outputs could not be written (outputs[0], outputs[2])".
 */
export function outputsNotWritten(indices: readonly number[]): string {
  const plural = indices.length === 1 ? '' : 's';
  return `${indices.length} output${plural} could not be written (${indices.map((index) => `outputs[${index}]`).join(', ')})`;
}

/**
 * "Next renewal in 20m", saying why when an expiry (`shortenedBy`, epoch ms) brought the run before
 * `renewal_interval`.
 */
export function nextRenewalLine(delayMs: number, renewalIntervalMs: number, shortenedBy?: number): string {
  const sooner =
    shortenedBy === undefined
      ? ''
      : ` (before renewal_interval ${formatDuration(renewalIntervalMs)}: the certificates expire at ${new Date(shortenedBy).toISOString()})`;
  return `Next renewal in ${formatDuration(delayMs)}${sooner}`;
}

/**
 * The warning of a failed attempt: what failed, what stays in place (`wroteBefore`: whether an earlier
 * good run, of this process or the one that stored the identity, wrote artifacts), and when it retries.
 */
export function retryLine(failure: string, wroteBefore: boolean, delayMs: number): string {
  const kept = wroteBefore ? 'The artifacts of the last good run stay in place' : 'Nothing was written yet';
  return `${failure.replace(/\.$/, '')}. ${kept}; retrying in ${formatDuration(delayMs)}`;
}
