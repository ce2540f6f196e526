import { AgentHealth } from '../../bot/agent/agent-health.js';
import { BotAgent } from '../../bot/agent/bot-agent.js';
import { identityStoreFor } from '../../bot/agent/identity-store.js';
import { describeOutputTarget } from '../../bot/agent/output-destinations.js';
import { OutputsFailedError } from '../../bot/agent/outputs-failed-error.js';
import type { RunSummary } from '../../bot/agent/run-summary.js';
import type { StorageLock } from '../../bot/agent/storage-lock.js';
import { awsDestinationFactory, awsJoinProof } from '../../bot/aws/aws-agent-adapters.js';
import type { BotConfig } from '../../bot/config/bot-config.js';
import { LoggedError } from '../../cli/logged-error.js';
import { MidError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { type DiagServer, startDiagServer } from '../diag-server.js';
import { type MidbotIo, type MidbotSignal, midbotLogger } from '../midbot-io.js';
import { loadStartConfig } from '../start-config.js';
import type { ModeChoice, StartFlagOptions } from '../start-flag-options.js';
import { withTeleportTokenNote } from '../teleport-token-note.js';

export interface StartOptions extends StartFlagOptions {
  /** `midbot start MODE ...`: the mode's output is added to the others. */
  readonly mode?: ModeChoice;
}

/**
 * `midbot start`: with `--oneshot` (or `oneshot: true`), one run that resolves when every output was
 * written and rejects otherwise; without it, the daemon until SIGINT/SIGTERM, SIGHUP writing every
 * output at once. Either way the storage directory is locked for the whole run (a second run on it is
 * refused), and the lock is removed on the way out, SIGINT and SIGTERM included.
 */
export async function start(options: StartOptions, io: MidbotIo): Promise<RunSummary | undefined> {
  try {
    return await startLogging(options, io);
  } catch (caught) {
    const error = withTeleportTokenNote(caught, io.env);
    if (options.logFormat !== 'json') throw error;
    // The reason midbot stops, as JSON like every other line a log shipper reads.
    midbotLogger(io, 'json').error(error instanceof Error ? error.message : String(error), {
      code: error instanceof MidError ? error.code : 'internal_error',
    });
    throw new LoggedError(error);
  }
}

async function startLogging(options: StartOptions, io: MidbotIo): Promise<RunSummary | undefined> {
  const { config, warnings } = loadStartConfig(options.config, options, io, options.mode);
  const logger = midbotLogger(io, options.logFormat, options.debug || config.debug ? 'debug' : 'info');
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
  const identityStore = identityStoreFor(config.storage);
  const storageName =
    options.dataDir !== undefined
      ? '--data-dir'
      : options.storage !== undefined
        ? '--storage'
        : 'storage.path';
  const lock = await identityStore.lock?.(storageName);
  if (lock?.staleFrom !== undefined) {
    logger.warn(
      `Took over the lock of midbot pid ${lock.staleFrom}, which no longer runs (it was stopped without cleaning up)`,
      { lock_file: lock.file },
    );
  }
  const aws = { region: io.env?.['AWS_REGION'] ?? io.env?.['AWS_DEFAULT_REGION'] };
  let agent: BotAgent | undefined;
  let diag: DiagServer | undefined;
  try {
    const joinProof = awsJoinProof(config.onboarding, aws);
    const diagnostics = await startDiagnostics(config, options, io, logger);
    diag = diagnostics?.server;
    agent = new BotAgent({
      config,
      clock: io.clock,
      sleep: io.sleep,
      logger,
      hostname: io.hostname(),
      identityStore,
      destinationFactory: awsDestinationFactory(aws),
      ...(joinProof === undefined ? {} : { joinProof }),
      ...(diagnostics === undefined ? {} : { observer: diagnostics.health }),
    });
    return config.oneshot ? await runOneshot(agent, io, lock) : await runDaemon(agent, io, logger, lock);
  } finally {
    agent?.close();
    await diag?.close();
    lock?.release();
  }
}

/** The diagnostics endpoint of a daemon given `diag_addr`, with the health it serves; none otherwise. */
async function startDiagnostics(
  config: BotConfig,
  options: StartOptions,
  io: MidbotIo,
  logger: Logger,
): Promise<{ server: DiagServer; health: AgentHealth } | undefined> {
  if (config.diag_addr === undefined) return undefined;
  if (config.oneshot) {
    logger.warn('diag_addr is ignored with oneshot: there is no daemon to probe');
    return undefined;
  }
  const health = new AgentHealth(
    config.outputs.map((output, index) => ({
      index,
      type: output.type,
      target: describeOutputTarget(output),
    })),
  );
  const name = options.diagAddr === undefined ? 'diag_addr' : '--diag-addr';
  const server = await startDiagServer(config.diag_addr, name, health, () => io.clock.now());
  logger.info(`Diagnostics at ${server.url} (/livez, /readyz, /metrics)`, { diag_url: server.url });
  return { server, health };
}

/**
 * One run. It cannot be interrupted half way, so SIGINT/SIGTERM (and SIGHUP, which only re-renders a
 * daemon) remove the storage lock and then end the process as the signal would have without midbot
 * (as before there was a lock).
 */
async function runOneshot(agent: BotAgent, io: MidbotIo, lock: StorageLock | undefined): Promise<RunSummary> {
  const unsubscribe: Array<() => void> = [];
  const stopNow = (signal: MidbotSignal) => () => endAsSignalWould(signal, unsubscribe, lock, io);
  unsubscribe.push(
    io.onSignal('SIGHUP', stopNow('SIGHUP')),
    io.onSignal('SIGINT', stopNow('SIGINT')),
    io.onSignal('SIGTERM', stopNow('SIGTERM')),
  );
  try {
    const summary = await agent.runOnce();
    if (summary.failed > 0) throw new OutputsFailedError(summary);
    return summary;
  } finally {
    for (const off of unsubscribe) off();
  }
}

/**
 * Runs until SIGINT/SIGTERM, which stop it between runs; SIGHUP writes every output at once. A run
 * under way is let finish (each output is written whole), which can take as long as its requests'
 * timeouts when a service hangs: a second SIGINT/SIGTERM ends the process at once, as the oneshot's does.
 */
async function runDaemon(
  agent: BotAgent,
  io: MidbotIo,
  logger: Logger,
  lock: StorageLock | undefined,
): Promise<undefined> {
  const stop = new AbortController();
  const unsubscribe: Array<() => void> = [];
  const stopping = (signal: MidbotSignal) => () => {
    if (stop.signal.aborted) {
      logger.warn(`${signal} again: stopping now, in the middle of the run`);
      endAsSignalWould(signal, unsubscribe, lock, io);
      return;
    }
    stop.abort();
    if (agent.runInProgress) {
      logger.info(`${signal}: stopping when the current run ends; ${signal} again stops at once`);
    }
  };
  unsubscribe.push(
    io.onSignal('SIGHUP', () => agent.reload()),
    io.onSignal('SIGINT', stopping('SIGINT')),
    io.onSignal('SIGTERM', stopping('SIGTERM')),
  );
  try {
    await agent.run(stop.signal);
  } finally {
    for (const off of unsubscribe) off();
  }
  return undefined;
}

/** Leaves nothing behind (signal handlers, the storage lock) and ends the process as `signal` does. */
function endAsSignalWould(
  signal: MidbotSignal,
  unsubscribe: ReadonlyArray<() => void>,
  lock: StorageLock | undefined,
  io: MidbotIo,
): void {
  for (const off of unsubscribe) off();
  lock?.release();
  (io.raise ?? raiseDefault)(signal);
}

/** With midbot's handler gone, the signal's default action ends the process. */
function raiseDefault(signal: MidbotSignal): void {
  process.kill(process.pid, signal);
}
