import { BotAgent } from '../../bot/agent/bot-agent.js';
import { OutputsFailedError } from '../../bot/agent/outputs-failed-error.js';
import type { RunSummary } from '../../bot/agent/run-summary.js';
import { awsDestinationFactory, awsJoinProof } from '../../bot/aws/aws-agent-adapters.js';
import type { BotConfigFlags } from '../../bot/config/load-bot-config.js';
import { createLogger } from '../../core/logger.js';
import type { MidbotIo } from '../midbot-io.js';
import { loadStartConfig } from '../start-config.js';

export interface StartOptions extends BotConfigFlags {
  /** `-c FILE`. */
  readonly config?: string;
  readonly logFormat: 'text' | 'json';
  readonly debug?: boolean;
}

/**
 * `midbot start`: with `--oneshot` (or `oneshot: true`), one run that resolves when every output was
 * written and rejects otherwise; without it, the daemon until SIGINT/SIGTERM, SIGHUP writing every
 * output at once.
 */
export async function start(options: StartOptions, io: MidbotIo): Promise<RunSummary | undefined> {
  const { config, warnings } = loadStartConfig(options.config, options, io);
  const logger = createLogger({
    format: options.logFormat,
    level: options.debug || config.debug ? 'debug' : 'info',
    write: io.writeLog,
    now: () => new Date(io.clock.now()),
  });
  for (const warning of warnings) logger.warn(warning);
  if (config.outputs.length === 0) {
    logger.warn(
      'No outputs are configured: midbot only keeps its own identity; add outputs (or --destination-dir)',
    );
  }
  if (config.storage.type === 'memory' && !config.oneshot) {
    logger.warn(
      'storage is memory: the bot identity is lost when midbot stops, and it must join again with a new token; set storage (or --data-dir) for a long-running bot',
    );
  }
  const aws = { region: io.env?.['AWS_REGION'] ?? io.env?.['AWS_DEFAULT_REGION'] };
  const joinProof = awsJoinProof(config.onboarding, aws);
  const agent = new BotAgent({
    config,
    clock: io.clock,
    sleep: io.sleep,
    logger,
    hostname: io.hostname(),
    destinationFactory: awsDestinationFactory(aws),
    ...(joinProof === undefined ? {} : { joinProof }),
  });
  try {
    if (config.oneshot) {
      const summary = await agent.runOnce();
      if (summary.failed > 0) throw new OutputsFailedError(summary);
      return summary;
    }
    const stop = new AbortController();
    const unsubscribe = [
      io.onSignal('SIGHUP', () => agent.reload()),
      io.onSignal('SIGINT', () => stop.abort()),
      io.onSignal('SIGTERM', () => stop.abort()),
    ];
    try {
      await agent.run(stop.signal);
    } finally {
      for (const off of unsubscribe) off();
    }
    return undefined;
  } finally {
    agent.close();
  }
}
