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
