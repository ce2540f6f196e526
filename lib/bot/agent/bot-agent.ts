import type { OutputCertificatesResponse } from '../../api/output-certificates.js';
import type { Clock } from '../../core/clock.js';
import { MidError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import type { SigningIdentity } from '../auth-client/bot-api-client.js';
import type { BotConfig } from '../config/bot-config.js';
import type { RunObserver } from './agent-health.js';
import { BotIdentityKeeper, type CurrentIdentity, IDENTITY_GONE } from './bot-identity-keeper.js';
import { isFixableWhileRunning, isTransient } from './bot-run-error.js';
import type { ClusterConnection, ConnectOptions } from './cluster-connection.js';
import { ClusterConnector } from './cluster-connector.js';
import { nextRenewalLine, outputsNotWritten, retryLine } from './daemon-log-lines.js';
import { sendHeartbeat } from './heartbeat-report.js';
import { type IdentityStore, identityStoreFor } from './identity-store.js';
import type { JoinProofProvider } from './join-proof-provider.js';
import { joinProofProviderFor } from './join-proof-providers.js';
import {
  type DestinationFactory,
  describeOutputTarget,
  type ResolvedOutput,
  resolveOutputs,
} from './output-destinations.js';
import { checkOutputsWritable } from './output-folder-check.js';
import { generatedMessage, type PendingOutput, prepareOutput, writeIssuedOutput } from './output-writer.js';
import { RenewalSchedule } from './renewal-schedule.js';
import { type BackoffOptions, backoffDelay } from './retry-backoff.js';
import type { OutputResult, RunSummary } from './run-summary.js';
import { describeShortenedLifetime } from './shortened-lifetime.js';
import type { Sleep } from './sleep.js';

/**
 * How long the last run's identity must stay valid for a retry of failed outputs to use it: less, and
 * the retry renews it first, as a regular run does.
 */
const HELD_IDENTITY_MARGIN_MS = 5 * 60_000;

export interface BotAgentOptions {
  /** The parsed config (`loadBotConfig`, `configFromFlags`, `loadBotConfigWithFlags`). */
  readonly config: BotConfig;
  readonly clock: Clock;
  /** How the daemon waits between runs; must return early when its signal aborts. */
  readonly sleep: Sleep;
  readonly logger: Logger;
  /** Reported in heartbeats. */
  readonly hostname: string;
  /** [0, 1) for the retry jitter. @default Math.random */
  readonly random?: () => number;
  readonly backoff?: BackoffOptions;
  /** @default from `config.storage` */
  readonly identityStore?: IdentityStore;
  /** @default directory and memory destinations */
  readonly destinationFactory?: DestinationFactory;
  /** @default from `config.onboarding.join_method` */
  readonly joinProof?: JoinProofProvider;
  /** Options of the connection to the auth service (CA file reader, timeouts). */
  readonly connect?: Omit<ConnectOptions, 'clock'>;
  /** Told of each run's outcome and the next run's time by `run` (the diagnostics endpoint). */
  readonly observer?: RunObserver;
}

/**
 * The least the bot's own identity lives: a `certificate_ttl` shorter than this (short outputs) leaves
 * it at the hour it always had, so that a brief outage never costs a token-joined bot its identity.
 */
const MIN_IDENTITY_TTL_MS = 3_600_000;

/**
 * The agent (our `tbot`): each run checks the auth service's CA pin (once per process), renews or joins
 * the bot's identity and saves it, then writes every output with a fresh key and reports a heartbeat.
 *
 * Outputs are independent: one failing is reported and the others are still written, and a failed output
 * keeps its previous artifacts. `run` repeats this every `renewal_interval`, retries failures that may
 * pass (the service unreachable) with exponential backoff, and stops on ones that need a person (a
 * refused token, a CA pin mismatch).
 *
 * @example
 * const agent = new BotAgent({ config, clock: systemClock, sleep: timerSleep, logger, hostname: 'ci-1' });
 * const summary = await agent.runOnce();
 */
export class BotAgent {
  readonly outputs: readonly ResolvedOutput[];
  private readonly config: BotConfig;
  private readonly clock: Clock;
  private readonly logger: Logger;
  private readonly keeper: BotIdentityKeeper;
  private readonly startedAt: number;
  private readonly cluster: ClusterConnector;
  private wake: AbortController | undefined;
  private renderRequested = false;
  /** A reload asked for a full run: renew and write every output, not only those that failed. */
  private fullRunRequested = false;
  private running = false;

  constructor(private readonly options: BotAgentOptions) {
    this.config = options.config;
    this.clock = options.clock;
    this.logger = options.logger;
    this.startedAt = options.clock.now();
    this.cluster = ClusterConnector.forAgent(options.config, options.connect, options.clock, options.logger);
    this.outputs = resolveOutputs(options.config.outputs, options.destinationFactory);
    this.keeper = new BotIdentityKeeper(
      options.identityStore ?? identityStoreFor(options.config.storage),
      options.joinProof ?? joinProofProviderFor(options.config.onboarding),
      options.clock,
      options.logger,
      () => checkOutputsWritable(this.outputs),
      Math.max(options.config.certificate_ttl, MIN_IDENTITY_TTL_MS),
    );
  }

  /** Renews (or joins) once and writes every output. Throws `BotRunError` when no identity could be had. */
  async runOnce(): Promise<RunSummary> {
    const connection = await this.cluster.get();
    const current = await this.keeper.refresh(connection);
    return this.writeAndReport(connection, current);
  }

  /**
   * Writes again only the outputs in `indices`, with the identity the last run obtained, when it stays
   * valid a while: a retry after some outputs failed (a full disk, the service failing one issuance)
   * then neither renews the identity nor re-issues the outputs that were written. Undefined when that
   * identity cannot serve, and a full run is due instead.
   */
  private async retryOutputs(indices: ReadonlySet<number>): Promise<RunSummary | undefined> {
    const held = this.keeper.held(HELD_IDENTITY_MARGIN_MS);
    if (held === undefined) return undefined;
    this.logger.debug(`Retrying ${[...indices].map((index) => `outputs[${index}]`).join(', ')} only`);
    const summary = await this.writeAndReport(await this.cluster.get(), held, indices);
    // The identity itself was refused (its instance removed or locked since): a full run says so,
    // with the way to a new token, instead of blaming the outputs.
    const identityGone = summary.outputs.some(
      (output) => output.status === 'failed' && IDENTITY_GONE.has(output.code),
    );
    return identityGone ? undefined : summary;
  }

  private async writeAndReport(
    connection: ClusterConnection,
    current: CurrentIdentity,
    only?: ReadonlySet<number>,
  ): Promise<RunSummary> {
    const results = await this.writeOutputs(connection, current.signing, only);
    const written = results.filter((result) => result.status === 'written').length;
    // One heartbeat a run; a retry of a few outputs is part of the run it completes.
    const report = {
      hostname: this.options.hostname,
      uptimeMs: this.clock.now() - this.startedAt,
      oneshot: this.config.oneshot,
      outputsWritten: written,
    };
    const heartbeat =
      only === undefined ? await sendHeartbeat(connection, current.signing, report, this.logger) : false;
    const { identity } = current;
    const summary: RunSummary = {
      identity: {
        botName: identity.bot_name,
        instanceId: identity.instance_id,
        generation: identity.generation,
        serial: identity.serial,
        expiresAt: identity.expires_at,
        obtained: current.obtained,
      },
      outputs: results,
      written,
      failed: results.length - written,
      heartbeat,
    };
    const fields = { written, failed: summary.failed, identity_expires_at: identity.expires_at };
    const what = `${written} of ${results.length} outputs${only === undefined ? '' : ' (a retry of those that failed)'}`;
    if (summary.failed === 0) this.logger.info(`Wrote ${what}`, fields);
    else this.logger.warn(`Wrote ${what}; ${summary.failed} failed`, fields);
    return summary;
  }

  /**
   * Runs until `signal` aborts: a run, then a wait of `renewal_interval` (or a retry sooner after a
   * failure that may pass). Resolves when stopped; rejects with the error of a failure that retrying
   * cannot fix. The artifacts of the last good run stay in place whatever happens.
   */
  async run(signal: AbortSignal): Promise<void> {
    let attempt = 0;
    const storedExpiry = await this.keeper.storedExpiry();
    const schedule = new RenewalSchedule(this.config.renewal_interval, storedExpiry);
    // Whether artifacts of an earlier good run can be in place: a stored identity was made by one.
    let wroteBefore = storedExpiry !== undefined;
    // The outputs that failed for a passing reason while the rest of the run went well: the next
    // attempt retries only them, unless a reload asked for everything or the regular run is due.
    let retryOnly: Set<number> | undefined;
    while (!signal.aborted) {
      let failure: string | undefined;
      // When the run ended: the next one is due renewal_interval after it, and the wait is measured
      // from it, so that the log says 20m rather than what is left after the bookkeeping in between.
      let ranAt: number | undefined;
      const only = this.fullRunRequested || schedule.fullRunDue(this.clock.now()) ? undefined : retryOnly;
      this.fullRunRequested = false;
      retryOnly = undefined;
      this.running = true;
      try {
        const retried = only === undefined ? undefined : await this.retryOutputs(only);
        const summary = retried ?? (await this.runOnce());
        ranAt = this.clock.now();
        wroteBefore ||= summary.outputs.some((output) => output.status !== 'failed');
        schedule.record(summary, retried === undefined, ranAt);
        this.options.observer?.ran(summary, ranAt);
        const transient = summary.outputs.filter((output) => output.status === 'failed' && output.retryable);
        if (transient.length > 0) {
          retryOnly = new Set(transient.map((output) => output.index));
          failure = outputsNotWritten([...retryOnly]);
        }
      } catch (error) {
        if (!isTransient(error) && !(wroteBefore && isFixableWhileRunning(error))) throw error;
        failure = error instanceof Error ? error.message : String(error);
        this.options.observer?.failed(failure, this.clock.now());
        // Check the pin again on the next attempt: the service may have come back with another CA.
        this.close();
      } finally {
        this.running = false;
      }
      const now = ranAt ?? this.clock.now();
      if (signal.aborted) {
        if (failure !== undefined) {
          this.logger.warn(`Stopping after a failed run: ${failure.replace(/\.$/, '')}`, {
            ...schedule.expiryLogFields(now),
          });
        }
        break;
      }
      let delay: number;
      if (failure === undefined) {
        attempt = 0;
        const next = schedule.afterSuccess(now);
        delay = next.delay;
        this.logger.info(nextRenewalLine(delay, this.config.renewal_interval, next.shortenedBy), {
          at: this.isoIn(delay),
        });
      } else {
        attempt += 1;
        const backoff = backoffDelay(
          attempt,
          this.config.renewal_interval,
          this.options.random ?? Math.random,
          this.options.backoff,
        );
        delay = schedule.afterFailure(now, backoff, retryOnly);
        this.logger.warn(retryLine(failure, wroteBefore, delay), {
          attempt,
          retry_at: this.isoIn(delay),
          ...schedule.expiryLogFields(now),
        });
      }
      this.options.observer?.scheduled(now + delay);
      await this.pause(delay, signal);
    }
    this.logger.info('Stopped');
  }

  /** Whether `run` is renewing and writing now (rather than waiting for the next run). */
  get runInProgress(): boolean {
    return this.running;
  }

  /**
   * SIGHUP: renew and write every output now instead of at the next interval. As with tbot, nothing is
   * read again: the log says so, since `ExecReload=kill -HUP` after editing the file looks like it
   * applied the edit.
   */
  reload(): void {
    this.logger.info(
      'Reload requested: renewing and writing every output now (the config file is read at start only: restart midbot to apply changes to it)',
    );
    this.renderRequested = true;
    this.fullRunRequested = true;
    this.wake?.abort();
  }

  close(): void {
    this.cluster.close();
  }

  private async pause(delay: number, signal: AbortSignal): Promise<void> {
    if (this.renderRequested) {
      this.renderRequested = false;
      return;
    }
    const wake = new AbortController();
    this.wake = wake;
    try {
      await this.options.sleep(delay, AbortSignal.any([signal, wake.signal]));
    } finally {
      this.wake = undefined;
      this.renderRequested = false;
    }
  }

  /**
   * Every output with a fresh key, issued in one batch call (one authentication and one round trip for
   * all of them), then rendered and written side by side. An output the service refused, or whose
   * destination failed, is reported and keeps its previous artifacts; the others are still written.
   */
  private async writeOutputs(
    connection: ClusterConnection,
    signing: SigningIdentity,
    only?: ReadonlySet<number>,
  ): Promise<OutputResult[]> {
    const outputs = this.outputs.filter((output) => only === undefined || only.has(output.index));
    if (outputs.length === 0) return [];
    const pending = outputs.map((output) =>
      prepareOutput(output, connection.ping.signature_suite, this.config.certificate_ttl),
    );
    this.logger.debug(
      `Requesting certificates for ${pending.length} output${pending.length === 1 ? '' : 's'}`,
    );
    let issued: ReadonlyArray<OutputCertificatesResponse | Error>;
    try {
      issued = await connection.client.issueOutputs(
        signing,
        pending.map((output) => output.request),
      );
    } catch (error) {
      issued = pending.map(() => (error instanceof Error ? error : new Error(String(error))));
    }
    return Promise.all(pending.map((output, index) => this.writeOne(output, issued[index])));
  }

  private async writeOne(
    pending: PendingOutput,
    issued: OutputCertificatesResponse | Error | undefined,
  ): Promise<OutputResult> {
    const { output } = pending;
    const base = {
      index: output.index,
      type: output.config.type,
      target: describeOutputTarget(output.config),
      destination: output.destination.describe(),
    };
    try {
      if (issued === undefined || issued instanceof Error)
        throw issued ?? new Error('no answer for this output');
      const written = await writeIssuedOutput(pending, issued);
      this.logger.info(generatedMessage(output), {
        output: `outputs[${output.index}]`,
        destination: base.destination,
        roles: written.roles.join(','),
        serial: written.serial,
        expires_at: written.expiresAt,
      });
      const shortened = describeShortenedLifetime(
        this.config.certificate_ttl,
        this.config.renewal_interval,
        issued,
      );
      if (shortened !== undefined) {
        this.logger.warn(`outputs[${output.index}] (${base.target}): ${shortened}`, {
          roles: written.roles.join(','),
          expires_at: written.expiresAt,
        });
      }
      return {
        status: 'written',
        ...base,
        serial: written.serial,
        expiresAt: written.expiresAt,
        files: written.files,
      };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const retryable = isTransient(error);
      this.logger.error(`Failed to write outputs[${output.index}] (${base.target}): ${message}`, {
        destination: base.destination,
        code: error instanceof MidError ? error.code : 'internal_error',
        previous_artifacts: 'kept',
      });
      return {
        status: 'failed',
        ...base,
        code: error instanceof MidError ? error.code : 'internal_error',
        message,
        retryable,
      };
    }
  }

  private isoIn(ms: number): string {
    return new Date(this.clock.now() + ms).toISOString();
  }
}
