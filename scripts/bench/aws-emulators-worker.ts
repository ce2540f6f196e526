/**
 * The worker thread of `aws-emulators-thread.ts` (bundled to `dist/bench-aws-emulators.mjs`): runs the
 * DynamoDB, Secrets Manager and STS emulators and counts what they receive, answering the bench's
 * questions by message. Everything it keeps (the tables, the captured requests) stays in this thread's
 * heap, out of the Lambdas' way.
 */
import { parentPort, workerData } from 'node:worker_threads';
import {
  type ServerlessStandInsOptions,
  startServerlessStandIns,
} from '../../test/support/serverless-stand-ins.js';
import type { EmulatorsReady, EmulatorsRequest, EmulatorsTraffic } from './aws-emulators-thread.js';
import { countServerTraffic } from './server-traffic.js';

const port = parentPort;
if (port === null) throw new Error('aws-emulators-worker runs as a worker thread of the bench');

const counter = countServerTraffic();
const standIns = await startServerlessStandIns(workerData as ServerlessStandInsOptions);
const ports = {
  dynamodb: standIns.dynalite.port,
  secretsManager: standIns.secrets.port,
};
let capturedFrom: number | undefined;

const traffic = (): EmulatorsTraffic => ({
  dynamodb: counter.requests(ports.dynamodb),
  secretsManager: counter.requests(ports.secretsManager),
  secretsManagerOperations: standIns.secrets.calls.length,
  sts: standIns.sts.requests.length,
});

port.on('message', (message: EmulatorsRequest) => {
  void answer(message).then(
    (result) => port.postMessage({ id: message.id, result }),
    (error: unknown) => port.postMessage({ id: message.id, error: String(error) }),
  );
});

async function answer(message: EmulatorsRequest): Promise<unknown> {
  switch (message.op) {
    case 'traffic':
      return traffic();
    case 'secretsManagerOperations':
      return standIns.secrets.calls.slice(message.from);
    case 'startCapturing':
      // Only the requests of the runs the bench learns from: a capture of every run would grow this
      // heap for nothing.
      counter.capture(ports.dynamodb);
      capturedFrom = counter.requests(ports.dynamodb);
      return null;
    case 'stopCapturing': {
      const from = capturedFrom ?? counter.requests(ports.dynamodb);
      counter.release(ports.dynamodb);
      capturedFrom = undefined;
      return counter
        .spans(ports.dynamodb, from)
        .flatMap((span) => (span.request === undefined ? [] : [span.request]));
    }
    case 'stop':
      counter.stop();
      await standIns.stop();
      return null;
  }
}

const ready: EmulatorsReady = {
  environment: standIns.environment,
  tableName: standIns.tableName,
  dynamodbUrl: standIns.dynalite.endpoint,
  secretsManagerUrl: standIns.secrets.url,
  stsUrl: standIns.sts.url,
};
port.postMessage({ id: 0, result: ready });
