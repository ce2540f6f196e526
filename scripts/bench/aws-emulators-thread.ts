import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { ServerlessStandInsOptions } from '../../test/support/serverless-stand-ins.js';
import type { CapturedRequest } from './server-traffic.js';

/**
 * The worker's file: `npm run bench` bundles `aws-emulators-worker.ts` next to `dist/bench.mjs`, into
 * which this module is bundled.
 */
export const EMULATORS_WORKER = new URL('./bench-aws-emulators.mjs', import.meta.url);

/** Where the emulators listen, and what the Lambdas find in their environment (as `startServerlessStandIns`). */
export interface EmulatorsReady {
  readonly environment: Readonly<Record<string, string>>;
  readonly tableName: string;
  readonly dynamodbUrl: string;
  readonly secretsManagerUrl: string;
  readonly stsUrl: string;
}

/** Requests each emulator has received so far. */
export interface EmulatorsTraffic {
  readonly dynamodb: number;
  readonly secretsManager: number;
  /** Secrets Manager operations so far (faulted and refused ones included). */
  readonly secretsManagerOperations: number;
  readonly sts: number;
}

/** What the worker is asked. */
type EmulatorsQuestion =
  | { readonly op: 'traffic' | 'startCapturing' | 'stopCapturing' | 'stop' }
  | { readonly op: 'secretsManagerOperations'; readonly from: number };

/** The messages the worker answers, each answer with the same `id` (0 is its ready message). */
export type EmulatorsRequest = { readonly id: number } & EmulatorsQuestion;

export interface AwsEmulatorsThread extends EmulatorsReady {
  traffic(): Promise<EmulatorsTraffic>;
  /** The names of the Secrets Manager operations from the `from`-th on. */
  secretsManagerOperations(from: number): Promise<string[]>;
  /** Keeps the DynamoDB requests from now on, whole, until {@link stopCapturing}. */
  startCapturing(): Promise<void>;
  /** The DynamoDB requests since {@link startCapturing}, in the order they arrived. */
  stopCapturing(): Promise<CapturedRequest[]>;
  stop(): Promise<void>;
}

/**
 * The DynamoDB (dynalite), Secrets Manager and STS emulators of `startServerlessStandIns`, in a worker
 * thread of their own: on AWS these services run on other machines, so that neither their work nor
 * the heap they fill (every item ever written, every request counted) is charged to the Lambdas, which
 * keep this thread to themselves. They are still reached over loopback HTTP, as before. `workerFile`
 * is the bundled `aws-emulators-worker.ts`.
 */
export async function startAwsEmulatorsThread(
  workerFile: URL,
  options: ServerlessStandInsOptions,
): Promise<AwsEmulatorsThread> {
  if (!existsSync(workerFile)) {
    throw new Error(
      `${fileURLToPath(workerFile)} is missing: run the bench with \`npm run bench\`, which builds it`,
    );
  }
  const worker = new Worker(workerFile, { workerData: options });
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  let nextId = 1;
  let failure: Error | undefined;
  const failAll = (error: Error) => {
    failure = error;
    for (const waiting of pending.values()) waiting.reject(error);
    pending.clear();
  };
  const ready = new Promise<EmulatorsReady>((resolve, reject) => {
    pending.set(0, { resolve: (value) => resolve(value as EmulatorsReady), reject });
  });
  worker.on('message', (message: { id: number; result?: unknown; error?: string }) => {
    const waiting = pending.get(message.id);
    pending.delete(message.id);
    if (message.error === undefined) waiting?.resolve(message.result);
    else waiting?.reject(new Error(`the AWS emulators thread failed: ${message.error}`));
  });
  worker.on('error', (error) => failAll(error));
  worker.on('exit', (code) => failAll(new Error(`the AWS emulators thread exited (code ${code})`)));
  const ask = <Result>(request: EmulatorsQuestion): Promise<Result> => {
    if (failure !== undefined) return Promise.reject(failure);
    const id = nextId;
    nextId += 1;
    return new Promise<Result>((resolve, reject) => {
      pending.set(id, { resolve: (value) => resolve(value as Result), reject });
      worker.postMessage({ ...request, id });
    });
  };
  let emulators: EmulatorsReady;
  try {
    emulators = await ready;
  } catch (error) {
    await worker.terminate();
    throw error;
  }
  return {
    ...emulators,
    traffic: () => ask<EmulatorsTraffic>({ op: 'traffic' }),
    secretsManagerOperations: (from) => ask<string[]>({ op: 'secretsManagerOperations', from }),
    startCapturing: () => ask<void>({ op: 'startCapturing' }),
    async stopCapturing() {
      // Buffers arrive as plain Uint8Arrays through the message port.
      const requests = await ask<CapturedRequest[]>({ op: 'stopCapturing' });
      return requests.map((captured) => ({ ...captured, body: Buffer.from(captured.body) }));
    },
    async stop() {
      try {
        await ask<void>({ op: 'stop' });
      } finally {
        worker.removeAllListeners('exit');
        await worker.terminate();
      }
    },
  };
}
