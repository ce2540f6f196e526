import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type CommandResult, runCommand } from './run-command.js';

const ROOT = resolve(import.meta.dirname, '../..');
export const MIDCTL = join(ROOT, 'dist/midctl.mjs');
export const MIDBOT = join(ROOT, 'dist/midbot.mjs');

/** Collects every line the CLIs print in tests, so a test can check none of them leaks a secret. */
export const capturedCliOutput: string[] = [];

function envWithout(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  delete env.MID_AUTH_SERVER;
  delete env.MID_DATA_DIR;
  return { ...env, ...extra };
}

/** Runs the built `midctl` as a real process. */
export async function runMidctl(
  args: readonly string[],
  options: { input?: string; env?: Record<string, string> } = {},
): Promise<CommandResult> {
  const result = await runCommand(process.execPath, [MIDCTL, ...args], {
    env: envWithout(options.env ?? {}),
    timeoutMs: 30_000,
    ...(options.input === undefined ? {} : { input: options.input }),
  });
  capturedCliOutput.push(result.stdout, result.stderr);
  return result;
}

/** Runs the built `midbot` as a real process. */
export async function runMidbot(
  args: readonly string[],
  options: { env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<CommandResult> {
  const result = await runCommand(process.execPath, [MIDBOT, ...args], {
    env: envWithout(options.env ?? {}),
    timeoutMs: options.timeoutMs ?? 60_000,
  });
  capturedCliOutput.push(result.stdout, result.stderr);
  return result;
}

export interface AuthServerProcess {
  readonly url: string;
  readonly caPin: string;
  readonly dataDir: string;
  readonly process: ChildProcess;
  logs(): string;
  stop(): Promise<void>;
}

/**
 * Starts `midctl auth start` as a process on a free loopback port and waits until it serves.
 * `listen: false` gives no `--listen`, for a restart where the last start's address applies.
 */
export async function startAuthServerProcess(
  dataDir: string,
  extraArgs: readonly string[] = [],
  options: { readonly listen?: string | false } = {},
): Promise<AuthServerProcess> {
  const listen = options.listen === false ? [] : ['--listen', options.listen ?? '127.0.0.1:0'];
  const child = spawn(
    process.execPath,
    [MIDCTL, '--data-dir', dataDir, 'auth', 'start', ...listen, ...extraArgs],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: envWithout({}),
    },
  );
  let output = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  const infoFile = join(dataDir, 'auth-server.json');
  const deadline = Date.now() + 20_000;
  while (!output.includes('auth service started')) {
    if (child.exitCode !== null)
      throw new Error(`midctl auth start exited with ${child.exitCode}:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`midctl auth start did not start in time:\n${output}`);
    }
    await new Promise((done) => setTimeout(done, 50));
  }
  if (!existsSync(infoFile)) throw new Error(`midctl auth start wrote no ${infoFile}`);
  const info = JSON.parse(readFileSync(infoFile, 'utf8')) as { url: string; ca_pin: string };
  return {
    url: info.url,
    caPin: info.ca_pin,
    dataDir,
    process: child,
    logs: () => output,
    stop: async () => {
      capturedCliOutput.push(output);
      if (child.exitCode !== null) return;
      const exited = new Promise((done) => child.once('exit', done));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((done) => setTimeout(done, 5_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}

/** `midctl bots add NAME --roles=…` through the real CLI; the single-use token and the CA pin it printed. */
export async function addBotWithMidctl(
  dataDir: string,
  name: string,
  roles: readonly string[],
): Promise<{ token: string; caPin: string; authServer: string }> {
  const added = await runMidctl([
    '--data-dir',
    dataDir,
    'bots',
    'add',
    name,
    `--roles=${roles.join(',')}`,
    '--format',
    'json',
  ]);
  if (added.code !== 0) throw new Error(`midctl bots add ${name} failed: ${added.stderr}`);
  const parsed = JSON.parse(added.stdout) as { token: string; ca_pin: string; auth_server: string };
  return { token: parsed.token, caPin: parsed.ca_pin, authServer: parsed.auth_server };
}

/** A long-running `midbot start` (the daemon), with its log lines collected. */
export interface MidbotProcess {
  readonly process: ChildProcess;
  logs(): string;
  /** Resolves once `pattern` matches the logs `count` times; rejects after `timeoutMs` or when midbot exits. */
  waitForLog(pattern: RegExp, count?: number, timeoutMs?: number): Promise<void>;
  /** SIGTERM, then the exit code. */
  stop(): Promise<number | null>;
}

export function startMidbotProcess(args: readonly string[]): MidbotProcess {
  const child = spawn(process.execPath, [MIDBOT, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: envWithout({}),
  });
  let output = '';
  const append = (chunk: string) => {
    output += chunk;
  };
  child.stdout?.setEncoding('utf8').on('data', append);
  child.stderr?.setEncoding('utf8').on('data', append);
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return {
    process: child,
    logs: () => output,
    async waitForLog(pattern, count = 1, timeoutMs = 20_000) {
      const global = new RegExp(
        pattern.source,
        pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`,
      );
      const deadline = Date.now() + timeoutMs;
      while ((output.match(global)?.length ?? 0) < count) {
        if (child.exitCode !== null) throw new Error(`midbot exited with ${child.exitCode}:\n${output}`);
        if (Date.now() > deadline) throw new Error(`no ${count}× ${pattern} in midbot's log:\n${output}`);
        await new Promise((done) => setTimeout(done, 50));
      }
    },
    async stop() {
      capturedCliOutput.push(output);
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      return child.exitCode;
    },
  };
}
