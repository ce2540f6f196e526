import { spawn } from 'node:child_process';

/** What a finished (or killed) child process left behind. */
export interface CommandResult {
  /** Exit code, or `null` when the process was killed by a signal (for instance on timeout). */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  /** True when the process was killed because it ran past `timeoutMs`. */
  readonly timedOut: boolean;
}

export interface RunCommandOptions {
  /** Kill the process (SIGKILL) after this long. @default 15_000 */
  readonly timeoutMs?: number;
  /** Written to stdin, which is then closed. @default stdin closed at once */
  readonly input?: string;
  /** Replaces the environment. @default process.env */
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
}

/**
 * Runs a program without a shell and never hangs: stdin is closed, and the process is killed after
 * `timeoutMs`. Never rejects for a non-zero exit; the caller asserts on `code` and the output.
 */
export function runCommand(file: string, args: readonly string[], options: RunCommandOptions = {}) {
  const timeoutMs = options.timeoutMs ?? 15_000;
  return new Promise<CommandResult>((resolve, reject) => {
    const child = spawn(file, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    // A child that exits before reading its input would otherwise surface EPIPE as an unhandled error.
    child.stdin.on('error', () => {});
    child.stdin.end(options.input ?? '');
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`could not start ${file}: ${error.message}`, { cause: error }));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}
