import type { Sleep } from '../bot/agent/sleep.js';
import type { Clock } from '../core/clock.js';
import { createLogger, type Logger, type LogLevel } from '../core/logger.js';

/** The signals `midbot start` reacts to: SIGHUP writes every output now, the others stop it. */
export type MidbotSignal = 'SIGHUP' | 'SIGINT' | 'SIGTERM';

/** What the commands need from the outside world; the entry passes the real ones, tests their own. */
export interface MidbotIo {
  /** Standard output: what a command prints as its result. */
  write(text: string): void;
  /** One log line (standard error). */
  writeLog(line: string): void;
  readonly clock: Clock;
  readonly sleep: Sleep;
  hostname(): string;
  /** Relative `--data-dir`, `--destination-dir` and `-c` resolve against this. */
  cwd(): string;
  readFile(path: string): string;
  /**
   * The command line as the process got it, for what must be known even when it cannot be parsed
   * (a usage error is logged as JSON under `--log-format json`). @default none: text
   */
  readonly argv?: readonly string[];
  /** The process environment (AWS_REGION for the iam join and Secrets Manager outputs). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Calls `handler` on each `signal` until the returned function is called. */
  onSignal(signal: MidbotSignal, handler: () => void): () => void;
  /**
   * Ends the process as `signal` does by default, once midbot has cleaned up after it (a `--oneshot`
   * run stopped by SIGINT/SIGTERM, a daemon by a second one). @default sends the signal to this process again
   */
  raise?(signal: MidbotSignal): void;
}

/** midbot's log: one line a record on `io`'s standard error, timed by `io`'s clock. */
export function midbotLogger(io: MidbotIo, format: 'text' | 'json', level: LogLevel = 'info'): Logger {
  return createLogger({ format, level, write: io.writeLog, now: () => new Date(io.clock.now()) });
}
