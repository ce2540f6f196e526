import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { describeOutputTarget } from '../../lib/bot/agent/output-destinations.js';
import type { RunSummary } from '../../lib/bot/agent/run-summary.js';
import { awsDestinationFactory } from '../../lib/bot/aws/aws-agent-adapters.js';
import { expiryMetrics } from '../../lib/bot/aws/bot-lambda-run.js';
import { loadBotConfig } from '../../lib/bot/config/load-bot-config.js';
import { ManualClock } from '../../lib/core/clock.js';
import { MachineIdAuth } from '../../lib/infra/machine-id-auth.js';
import { MachineIdBot } from '../../lib/infra/machine-id-bot.js';
import { INLINE_CODE, logicalIdOf, newStack, resolveJoin } from './support.js';

// Each output's Expiry alarm must watch that output alone. Two outputs of one bot can be for the same
// target (two identities with different roles): if they shared a metric, the one that keeps failing
// would hide behind the other's fresh reports and its certificates would expire without an alarm.

const stack = newStack();
const auth = new MachineIdAuth(stack, 'Auth', { clusterName: 'test.example', code: INLINE_CODE });
new MachineIdBot(stack, 'Ci', {
  auth,
  botName: 'ci',
  roles: ['deploy', 'admin'],
  outputs: [
    { name: 'deploy', type: 'identity', roles: ['deploy'] },
    { name: 'admin', type: 'identity', roles: ['admin'] },
  ],
  code: INLINE_CODE,
});
const template = Template.fromStack(stack).toJSON() as {
  Resources: Record<string, { Type: string; Properties: Record<string, unknown> }>;
};
const FUNCTION_NAME = 'machine-id-bot-ci';

/** A deploy-time value as CloudFormation would give it: secrets by ARN, the function by name. */
function deployed(token: unknown): string {
  const text = JSON.stringify(token);
  if (text.includes('ApiEndpoint')) return 'https://abc123.execute-api.eu-west-1.amazonaws.com';
  const ref = (token as { Ref?: string }).Ref ?? '';
  if (ref === logicalIdOf(stack, 'Ci/Function/Resource')) return FUNCTION_NAME;
  return `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${ref}-AbCdEf`;
}

/** The dimensions an output's Expiry alarm watches, as they are once deployed, by output name. */
function alarmDimensions(output: string): Record<string, string> {
  const alarm = template.Resources[logicalIdOf(stack, `Ci/Output-${output}/ExpiryAlarm/Resource`)];
  const dimensions = alarm?.Properties['Dimensions'] as Array<{ Name: string; Value: unknown }>;
  return Object.fromEntries(dimensions.map(({ Name, Value }) => [Name, resolveJoin(Value, deployed)]));
}

describe('output Expiry alarms', () => {
  it('watch a metric of their own when two outputs of a bot are for the same target', () => {
    expect(alarmDimensions('deploy')).not.toEqual(alarmDimensions('admin'));
  });

  it('watch the dimensions the bot Lambda reports each output under', () => {
    const environment = template.Resources[logicalIdOf(stack, 'Ci/Function/Resource')]?.Properties[
      'Environment'
    ] as { Variables: { MID_BOT_CONFIG: unknown } };
    const { config } = loadBotConfig(
      resolveJoin(environment.Variables.MID_BOT_CONFIG, deployed),
      'MID_BOT_CONFIG',
    );
    const destinations = awsDestinationFactory({ region: 'eu-west-1' });
    const summary: RunSummary = {
      identity: {
        botName: 'ci',
        instanceId: 'i',
        generation: 1,
        serial: 's',
        expiresAt: '',
        obtained: 'joined',
      },
      outputs: config.outputs.map((output, index) => ({
        status: 'written' as const,
        index,
        type: output.type,
        target: describeOutputTarget(output),
        destination: destinations(output.destination, index).destination.describe(),
        serial: `serial-${index}`,
        expiresAt: new Date(3_600_000).toISOString(),
        files: [],
      })),
      written: 2,
      failed: 0,
      heartbeat: true,
    };
    const reported = expiryMetrics(summary, new ManualClock(0), FUNCTION_NAME).map((line) => {
      const metric = JSON.parse(line) as {
        _aws: { CloudWatchMetrics: Array<{ Dimensions: string[][] }> };
      } & Record<string, string>;
      const names = metric._aws.CloudWatchMetrics[0]?.Dimensions[0] ?? [];
      return Object.fromEntries(names.map((name) => [name, metric[name]]));
    });
    expect(reported).toEqual([alarmDimensions('deploy'), alarmDimensions('admin')]);
  });
});
