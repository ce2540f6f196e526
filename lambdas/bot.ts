/**
 * A bot on AWS: invoked by EventBridge Scheduler (every 20 minutes by default) or directly, it runs the
 * agent once — iam join, every output issued and written to its Secrets Manager secret, one heartbeat —
 * and returns a summary. A composition root only: the config (`MID_BOT_CONFIG`, the v2 config the
 * MachineIdBot construct renders as JSON; YAML set by hand works too) is validated and the clients are
 * built once per cold start.
 */
import { BotAgent } from '../lib/bot/agent/bot-agent.js';
import { timerSleep } from '../lib/bot/agent/sleep.js';
import { awsDestinationFactory, awsJoinProof } from '../lib/bot/aws/aws-agent-adapters.js';
import { runBotLambda } from '../lib/bot/aws/bot-lambda-run.js';
import { loadBotConfigLazily } from '../lib/bot/config/load-bot-config-lazily.js';
import { cachedUnlessFailed } from '../lib/core/cached-unless-failed.js';
import { systemClock } from '../lib/core/clock.js';
import { ConfigError, MidError } from '../lib/core/errors.js';
import { createLogger, type Logger } from '../lib/core/logger.js';

interface Ready {
  readonly agent: BotAgent;
  readonly logger: Logger;
  readonly functionName: string;
}

async function build(): Promise<Ready> {
  const functionName = process.env['AWS_LAMBDA_FUNCTION_NAME'] ?? 'machine-id-bot';
  const logger = createLogger({ format: 'json' }, { service: 'machine-id-bot', function: functionName });
  const text = process.env['MID_BOT_CONFIG'];
  if (text === undefined || text.trim() === '') {
    throw new ConfigError(
      'missing_config',
      'MID_BOT_CONFIG is not set: the MachineIdBot construct passes the bot config (v2, as JSON) in it',
    );
  }
  const { config, warnings } = await loadBotConfigLazily(text, 'MID_BOT_CONFIG');
  for (const warning of warnings) logger.warn(warning);
  if (config.diag_addr !== undefined) {
    logger.warn('diag_addr is ignored: a Lambda serves no endpoint; watch its invocations and logs instead');
  }
  const aws = { region: process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION'] };
  const joinProof = awsJoinProof(config.onboarding, aws);
  const agent = new BotAgent({
    config: { ...config, oneshot: true },
    clock: systemClock,
    sleep: timerSleep,
    logger,
    hostname: functionName,
    destinationFactory: awsDestinationFactory(aws),
    ...(joinProof === undefined ? {} : { joinProof }),
  });
  return { agent, logger, functionName };
}

// A refusal is not cached: each invocation reads the config again and reports it again.
const dependencies = cachedUnlessFailed(build);

export async function handler(event: unknown): Promise<unknown> {
  let built: Ready;
  try {
    built = await dependencies();
  } catch (error) {
    // Logged with the cause and the fix, then thrown so the invocation is marked failed and alarmed.
    createLogger({ format: 'json' }).error('bot Lambda configuration refused', {
      code: error instanceof MidError ? error.code : 'internal_error',
      error: error instanceof Error ? error.message : String(error),
    });
    throw error;
  }
  const { agent, logger, functionName } = built;
  try {
    return await runBotLambda(agent, event, {
      clock: systemClock,
      logger,
      functionName,
      emit: (line) => console.log(line),
    });
  } catch (error) {
    // Outputs are written side by side, so after a partial failure some secrets hold new values: only
    // the failed outputs (all of them when the run failed before writing) keep their previous value.
    logger.error('bot run failed; failed outputs keep their previous value', {
      code: error instanceof MidError ? error.code : 'internal_error',
      error: error instanceof Error ? error.message : String(error),
    });
    throw error;
  }
}
