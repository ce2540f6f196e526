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

/** Starts `midctl auth start` as a process on a free loopback port and waits until it serves. */
export async function startAuthServerProcess(
  dataDir: string,
  extraArgs: readonly string[] = [],
): Promise<AuthServerProcess> {
  const child = spawn(
    process.execPath,
    [MIDCTL, '--data-dir', dataDir, 'auth', 'start', '--listen', '127.0.0.1:0', ...extraArgs],
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
