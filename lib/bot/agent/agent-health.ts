import type { OutputType } from '../config/bot-config.js';
import type { RunSummary } from './run-summary.js';

/** What the daemon tells whoever watches it (`AgentHealth`), as it happens. */
export interface RunObserver {
  /** A run (or a retry of failed outputs) ended with this summary at `at` (epoch ms). */
  ran(summary: RunSummary, at: number): void;
  /** A run failed before writing anything (the service unreachable, say) and will be retried. */
  failed(reason: string, at: number): void;
  /** The next run is due at `at`. */
  scheduled(at: number): void;
}

/** One output as the latest runs left it. */
export interface OutputHealth {
  readonly index: number;
  readonly type: OutputType;
  /** e.g. `app "grafana"`. */
  readonly target: string;
  /** Expiry (epoch ms) of the artifacts this process wrote last; undefined before the first. */
  readonly expiresAt?: number;
  /** Why the latest attempt at this output failed; undefined when it was written. */
  readonly failure?: { readonly code: string; readonly message: string };
}

/** How the agent stands, for `/readyz`. */
export interface Readiness {
  /**
   * `initializing` before the first run ends; `healthy` while every output holds artifacts this process
   * wrote that have not expired; `unhealthy` otherwise.
   */
  readonly status: 'initializing' | 'healthy' | 'unhealthy';
  /** Why not healthy, in words. */
  readonly reasons: readonly string[];
}

/** The latest attempt: a run or retry that wrote everything it tried, or the reason it did not. */
export interface LastAttempt {
  readonly at: number;
  readonly ok: boolean;
  readonly reason?: string;
}

/**
 * The daemon's state for its diagnostics endpoint, fed by the agent's run loop ({@link RunObserver}).
 * Readiness follows the artifacts, not the latest attempt: a renewal that failed while every output's
 * certificates are still valid leaves the consumers working, so the bot stays ready (the failure shows
 * in the latest attempt and the metrics, where alerts belong). It turns unhealthy once an output has
 * no valid artifacts: never written by this process, or expired.
 */
export class AgentHealth implements RunObserver {
  private readonly outputs: OutputHealth[];
  private identityExpiresAt: number | undefined;
  private last: LastAttempt | undefined;
  private nextRunAt: number | undefined;
  private runs = { ok: 0, failed: 0 };
  private lastSuccessAt: number | undefined;

  constructor(
    outputs: ReadonlyArray<{ readonly index: number; readonly type: OutputType; readonly target: string }>,
  ) {
    this.outputs = outputs.map(({ index, type, target }) => ({ index, type, target }));
  }

  ran(summary: RunSummary, at: number): void {
    this.identityExpiresAt = Date.parse(summary.identity.expiresAt);
    for (const result of summary.outputs) {
      const current = this.outputs[result.index];
      if (current === undefined) continue;
      const { index, type, target } = current;
      // A written output's earlier failure is over; a failed one keeps the expiry of what it last wrote.
      this.outputs[result.index] =
        result.status === 'written'
          ? { index, type, target, expiresAt: Date.parse(result.expiresAt) }
          : { ...current, failure: { code: result.code, message: result.message } };
    }
    const failed = summary.outputs.filter((result) => result.status === 'failed');
    if (failed.length === 0) {
      this.runs.ok += 1;
      this.lastSuccessAt = at;
      this.last = { at, ok: true };
    } else {
      this.runs.failed += 1;
      this.last = {
        at,
        ok: false,
        reason: `${failed.length} output${failed.length === 1 ? '' : 's'} failed (${failed.map((result) => `outputs[${result.index}]`).join(', ')})`,
      };
    }
  }

  failed(reason: string, at: number): void {
    this.runs.failed += 1;
    this.last = { at, ok: false, reason };
  }

  scheduled(at: number): void {
    this.nextRunAt = at;
  }

  readiness(now: number): Readiness {
    if (this.last === undefined)
      return { status: 'initializing', reasons: ['the first run has not ended yet'] };
    const reasons = this.outputs.flatMap((output) => {
      const name = `outputs[${output.index}] (${output.target})`;
      if (output.expiresAt === undefined) {
        return [
          `${name} has not been written${output.failure === undefined ? '' : `: ${output.failure.message}`}`,
        ];
      }
      if (output.expiresAt <= now) {
        return [`${name} expired at ${new Date(output.expiresAt).toISOString()}`];
      }
      return [];
    });
    if (this.identityExpiresAt !== undefined && this.identityExpiresAt <= now) {
      reasons.push(`the bot identity expired at ${new Date(this.identityExpiresAt).toISOString()}`);
    }
    return { status: reasons.length === 0 ? 'healthy' : 'unhealthy', reasons };
  }

  /** Everything known, for the endpoint's JSON and metrics. */
  snapshot() {
    return {
      outputs: [...this.outputs],
      identityExpiresAt: this.identityExpiresAt,
      lastAttempt: this.last,
      lastSuccessAt: this.lastSuccessAt,
      nextRunAt: this.nextRunAt,
      runs: { ...this.runs },
    };
  }
}
