import { readFileSync } from 'node:fs';
import type { Sleep } from '../../lib/bot/agent/sleep.js';
import type { Clock } from '../../lib/core/clock.js';
import type { MidbotIo, MidbotSignal } from '../../lib/midbot/midbot-io.js';

/** A `MidbotIo` that keeps what midbot printed and the signal handlers it set, for tests to read and call. */
export interface FakeMidbotIo extends MidbotIo {
  readonly logs: string[];
  readonly stdout: string[];
  readonly handlers: Map<MidbotSignal, () => void>;
}

/** Relative paths resolve against `cwd`; files are read for real; sleeping takes no time unless `sleep` does. */
export function fakeMidbotIo(options: { clock: Clock; cwd: string; sleep?: Sleep }): FakeMidbotIo {
  const logs: string[] = [];
  const stdout: string[] = [];
  const handlers = new Map<MidbotSignal, () => void>();
  return {
    logs,
    stdout,
    handlers,
    write: (text) => stdout.push(text),
    writeLog: (line) => logs.push(line),
    clock: options.clock,
    sleep: options.sleep ?? (async () => {}),
    hostname: () => 'cli-host',
    cwd: () => options.cwd,
    readFile: (path) => readFileSync(path, 'utf8'),
    onSignal: (signal, handler) => {
      handlers.set(signal, handler);
      return () => handlers.delete(signal);
    },
  };
}
