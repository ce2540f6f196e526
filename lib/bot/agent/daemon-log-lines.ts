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

interface JoinedAs {
  readonly cluster_name: string;
  readonly bot_name: string;
  readonly instance_id: string;
}

/**
 * The warning when a join with a new token made the storage another bot's (the token was meant for
 * another data directory, most likely): undefined when the bot stayed the same, or the cluster changed
 * (then the stored identity was useless anyway).
 */
export function otherBotJoinedLine(
  storage: string,
  previous: JoinedAs,
  joined: JoinedAs,
): { line: string; fields: Record<string, string> } | undefined {
  if (previous.cluster_name !== joined.cluster_name || previous.bot_name === joined.bot_name)
    return undefined;
  const was = previous.bot_name;
  const now = joined.bot_name;
  return {
    line: `${storage} held the identity of bot "${was}", and the new join token is bot "${now}"'s: the outputs now carry "${now}"'s certificates, and instance ${previous.instance_id} of "${was}" is no longer used (\`midctl rm bot_instance/${was}/${previous.instance_id}\` removes it). If the token was meant for another data directory, start this one with a token of "${was}"`,
    fields: { previous_bot: was, bot: now },
  };
}
