import { Agent, type IncomingMessage, request } from 'node:http';
import {
  BatchGetItemCommand,
  BatchWriteItemCommand,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
} from '@aws-sdk/client-dynamodb';
import { DescribeSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { AwsCredentialIdentity } from '@smithy/types';
import { ApiClient } from '../../lib/api/api-client.js';
import { ROUTES } from '../../lib/api/routes.js';
import { createDynamoDbClient } from '../../lib/auth/storage/dynamodb-client.js';
import { GET_CALLER_IDENTITY_BODY } from '../../lib/bot/iam/sign-get-caller-identity.js';
import type { CapturedRequest } from './server-traffic.js';

/** How many requests one bot run makes to each server (averages over runs, hence numbers). */
export interface RoundTripCounts {
  readonly auth: number;
  readonly sts: number;
  readonly secretsManager: number;
  readonly dynamodb: number;
}

/** Where the servers are, and what to call them with. */
export interface RoundTripTargets {
  readonly authUrl: string;
  readonly authCa: string;
  readonly stsUrl: string;
  readonly secretsManagerUrl: string;
  /** An existing secret, for DescribeSecret. */
  readonly secretId: string;
  readonly dynamodbUrl: string;
  readonly tableName: string;
  readonly region: string;
  readonly credentials: AwsCredentialIdentity;
}

/** How a run's requests went out: the groups sent at once, in order. */
export interface RoundTripWaves {
  /** The auth Lambda's DynamoDB requests themselves, sent again as they were. */
  readonly dynamodb: ReadonlyArray<readonly CapturedRequest[]>;
  /** Sizes of the Secrets Manager waves. */
  readonly secretsManager: readonly number[];
}

/** One bot run's round trips with nothing behind them, and the references printed next to them. */
export interface BareRoundTrips {
  /**
   * Every round trip one run waits on, with nothing behind it, in the run's order and concurrency (the
   * target's baseline): its auth calls one after the other, the STS call the auth Lambda makes, the
   * auth Lambda's very DynamoDB requests sent again in the same waves, and the Secrets Manager writes.
   */
  fullRun(): Promise<void>;
  /**
   * The same, with the DynamoDB requests sent again through the SDK client the auth Lambda uses
   * (`createDynamoDbClient`): the SDK's own work per call included, none of the auth service's.
   */
  sdkRun(): Promise<void>;
  /** Only the bot's own round trips (auth, STS, Secrets Manager), one after the other. */
  ownRun(): Promise<void>;
  /** One `GET /v1/ping` on a new connection (TLS handshake included), as each bot call makes it. */
  newConnectionPing(): Promise<void>;
  /** As many bare GetItem round trips to dynalite as the auth Lambda's DynamoDB calls, one after another. */
  getItems(): Promise<void>;
  close(): void;
}

/**
 * One bot run's round trips with nothing behind them, as many of each kind as the run makes and as
 * many at once as the run sends them, on warm connections. Auth calls are `GET /v1/ping` through the
 * stand-in (the real handler's cheapest route), STS calls an unsigned POST (answered 403 straight away)
 * and Secrets Manager calls a DescribeSecret with the real SDK client. DynamoDB gets the auth Lambda's
 * own requests of the run again, byte for byte (dynalite does not check signatures): the same work for
 * the table, none of the Lambda's. Sent again, the conditional writes fail their conditions, which costs
 * dynalite about what succeeding does.
 */
export function bareRoundTrips(
  traffic: RoundTripCounts,
  waves: RoundTripWaves,
  servers: RoundTripTargets,
): BareRoundTrips {
  const authOptions = { baseUrl: servers.authUrl, ca: servers.authCa };
  const auth = new ApiClient(authOptions);
  const stsAgent = new Agent({ keepAlive: true });
  const aws = { region: servers.region, credentials: servers.credentials };
  const secretsManager = new SecretsManagerClient({ ...aws, endpoint: servers.secretsManagerUrl });
  const dynamodb = new DynamoDBClient({ ...aws, endpoint: servers.dynamodbUrl });
  const postSts = () =>
    new Promise<void>((resolve, reject) => {
      const req = request(
        servers.stsUrl,
        {
          method: 'POST',
          agent: stsAgent,
          headers: { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' },
        },
        (res: IncomingMessage) => res.resume().on('end', resolve).on('error', reject),
      );
      req.on('error', reject);
      req.end(GET_CALLER_IDENTITY_BODY);
    });
  const times = async (count: number, call: () => Promise<unknown>) => {
    for (let i = 0; i < Math.round(count); i += 1) await call();
  };
  const describeSecret = () => secretsManager.send(new DescribeSecretCommand({ SecretId: servers.secretId }));
  const getItem = () =>
    dynamodb.send(
      new GetItemCommand({ TableName: servers.tableName, Key: { pk: { S: 'bench' }, sk: { S: 'bench' } } }),
    );
  const inWaves = async (sizes: readonly number[], call: () => Promise<unknown>) => {
    for (const size of sizes) await Promise.all(Array.from({ length: size }, call));
  };
  const lambdaClient = createDynamoDbClient({ ...aws, endpoint: servers.dynamodbUrl });
  // The wire format of these operations is the SDK's command input, so a captured body is one.
  const commands = waves.dynamodb.map((wave) => wave.map(sdkCommand));
  // Sent again, the conditional writes fail their conditions, as in the bare replay; the SDK's error
  // path costs it a little more than a success would (~0.1 ms a call here), so this reference slightly
  // overstates the SDK's share. (The cast: `send` is overloaded per command type and takes no union.)
  const sendThroughSdk = (command: SdkCommand) =>
    lambdaClient.send(command as PutItemCommand).catch((error: unknown) => {
      if ((error as { name?: unknown }).name !== 'ConditionalCheckFailedException') throw error;
    });
  const dynamodbAgent = new Agent({ keepAlive: true });
  const resend = (captured: CapturedRequest) =>
    new Promise<void>((resolve, reject) => {
      const req = request(
        new URL(captured.path, servers.dynamodbUrl),
        {
          method: captured.method,
          agent: dynamodbAgent,
          headers: { ...captured.headers, 'content-length': String(captured.body.length) },
        },
        (res: IncomingMessage) => res.resume().on('end', resolve).on('error', reject),
      );
      req.on('error', reject);
      req.end(captured.body);
    });
  const ping = () => auth.call({ method: 'GET', path: ROUTES.ping });
  const botCalls = async () => {
    await times(traffic.auth, ping);
    await times(traffic.sts, postSts);
  };
  return {
    async fullRun() {
      await botCalls();
      for (const wave of waves.dynamodb) await Promise.all(wave.map(resend));
      await inWaves(waves.secretsManager, describeSecret);
    },
    async sdkRun() {
      await botCalls();
      for (const wave of commands) await Promise.all(wave.map(sendThroughSdk));
      await inWaves(waves.secretsManager, describeSecret);
    },
    async ownRun() {
      await botCalls();
      await times(traffic.secretsManager, describeSecret);
    },
    async newConnectionPing() {
      const client = new ApiClient(authOptions);
      await client.call({ method: 'GET', path: ROUTES.ping }).finally(() => client.close());
    },
    getItems: () => times(traffic.dynamodb, getItem),
    close() {
      auth.close();
      stsAgent.destroy();
      dynamodbAgent.destroy();
      secretsManager.destroy();
      dynamodb.destroy();
      lambdaClient.destroy();
    },
  };
}

/** `runs` timings of `work`, after `warmUpRuns` untimed ones (connections open, code optimised). */
export async function sampled(
  work: () => Promise<unknown>,
  runs: number,
  warmUpRuns: number,
): Promise<number[]> {
  for (let i = 0; i < warmUpRuns; i += 1) await work();
  const samples: number[] = [];
  for (let run = 0; run < runs; run += 1) samples.push(await timed(work));
  return samples;
}

/** How long one call of `work` took, in milliseconds. */
export async function timed(work: () => Promise<unknown>): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

type SdkCommand =
  | BatchGetItemCommand
  | BatchWriteItemCommand
  | DeleteItemCommand
  | GetItemCommand
  | PutItemCommand
  | QueryCommand;

/** The SDK command a captured DynamoDB request was made from (`X-Amz-Target: DynamoDB_20120810.PutItem`). */
function sdkCommand(captured: CapturedRequest): SdkCommand {
  const operation = captured.headers['x-amz-target']?.split('.')[1] ?? '';
  const input = JSON.parse(captured.body.toString('utf8'));
  switch (operation) {
    case 'BatchGetItem':
      return new BatchGetItemCommand(input);
    case 'BatchWriteItem':
      return new BatchWriteItemCommand(input);
    case 'DeleteItem':
      return new DeleteItemCommand(input);
    case 'GetItem':
      return new GetItemCommand(input);
    case 'PutItem':
      return new PutItemCommand(input);
    case 'Query':
      return new QueryCommand(input);
    default:
      throw new Error(`the bench cannot send ${operation || 'an unknown operation'} again`);
  }
}
