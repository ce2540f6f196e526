import * as z from 'zod';
import type { Clock } from '../../core/clock.js';
import { InvalidRequestError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { parseWithSchema } from '../../core/schema.js';
import type { BotAgent } from '../agent/bot-agent.js';
import { OutputsFailedError } from '../agent/outputs-failed-error.js';
import type { RunSummary } from '../agent/run-summary.js';

/**
 * What invokes the bot Lambda: EventBridge Scheduler (with the target's input, `{}` unless set) or a
 * direct invocation (`aws lambda invoke`, a test). Any JSON object is accepted; nothing in it steers the
 * run, so an event cannot ask for other outputs or roles than the deployment configured.
 */
export const botLambdaEventSchema = z.union([z.looseObject({}), z.null(), z.undefined()]);

/** The invocation's answer: what was written, with serials and expiry. */
export interface BotLambdaResult {
  readonly bot: string;
  readonly instanceId: string;
  readonly identity: RunSummary['identity']['obtained'];
  readonly outputs: ReadonlyArray<{
    readonly target: string;
    readonly destination: string;
    readonly serial: string;
    readonly expiresAt: string;
  }>;
}

/**
 * CloudWatch Embedded Metric Format lines: `SecondsUntilExpiry` per output, for the construct's alarm
 * when a bot stops renewing. `Destination` (the output's secret) keeps apart outputs for the same
 * target, say two identities with different roles: sharing a metric, a failing one would hide behind
 * the other's reports.
 */
export function expiryMetrics(summary: RunSummary, clock: Clock, functionName: string): string[] {
  return summary.outputs.flatMap((output) =>
    output.status !== 'written'
      ? []
      : [
          JSON.stringify({
            _aws: {
              Timestamp: clock.now(),
              CloudWatchMetrics: [
                {
                  Namespace: 'MachineId',
                  Dimensions: [['Function', 'Bot', 'Output', 'Destination']],
                  Metrics: [{ Name: 'SecondsUntilExpiry', Unit: 'Seconds' }],
                },
              ],
            },
            Bot: summary.identity.botName,
            Output: output.target,
            Destination: output.destination,
            Function: functionName,
            SecondsUntilExpiry: Math.max(0, Math.round((Date.parse(output.expiresAt) - clock.now()) / 1000)),
          }),
        ],
  );
}

/**
 * One scheduled run: join (iam), issue and write every output, one heartbeat. Any failed output fails
 * the invocation (so it is retried and alarmed) after the others were written; a failed output never
 * overwrites its secret with anything partial.
 */
export async function runBotLambda(
  agent: BotAgent,
  event: unknown,
  options: { clock: Clock; logger: Logger; functionName: string; emit: (line: string) => void },
): Promise<BotLambdaResult> {
  parseWithSchema(botLambdaEventSchema, event, {
    root: 'event',
    code: 'invalid_event',
    error: (code, message) => new InvalidRequestError(code, message),
  });
  const summary = await agent.runOnce();
  for (const line of expiryMetrics(summary, options.clock, options.functionName)) options.emit(line);
  if (summary.failed > 0) throw new OutputsFailedError(summary);
  return {
    bot: summary.identity.botName,
    instanceId: summary.identity.instanceId,
    identity: summary.identity.obtained,
    outputs: summary.outputs.flatMap((output) =>
      output.status === 'written'
        ? [
            {
              target: output.target,
              destination: output.destination,
              serial: output.serial,
              expiresAt: output.expiresAt,
            },
          ]
        : [],
    ),
  };
}
