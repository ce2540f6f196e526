import type { OutputType } from '../config/bot-config.js';

/** One output's outcome in a run. */
export type OutputResult =
  | {
      readonly status: 'written';
      readonly index: number;
      readonly type: OutputType;
      /** e.g. `app "grafana"`. */
      readonly target: string;
      /** e.g. `directory /opt/machine-id`. */
      readonly destination: string;
      readonly serial: string;
      readonly expiresAt: string;
      readonly files: readonly string[];
    }
  | {
      readonly status: 'failed';
      readonly index: number;
      readonly type: OutputType;
      readonly target: string;
      readonly destination: string;
      readonly code: string;
      readonly message: string;
      /** Whether trying again soon can help (the service was unreachable) or a person must act. */
      readonly retryable: boolean;
    };

/** What one run of the agent did. */
export interface RunSummary {
  readonly identity: {
    readonly botName: string;
    readonly instanceId: string;
    readonly generation: number;
    readonly serial: string;
    readonly expiresAt: string;
    /** `kept`: a retry of failed outputs used the identity the run before obtained. */
    readonly obtained: 'joined' | 'renewed' | 'kept';
  };
  readonly outputs: readonly OutputResult[];
  readonly written: number;
  readonly failed: number;
  readonly heartbeat: boolean;
}
