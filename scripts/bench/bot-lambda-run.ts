import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { createOpensslCa } from '../../test/support/openssl-ca.js';
import { startApiGatewayStandIn } from '../../test/support/serverless-stand-ins.js';
import { EMULATORS_WORKER, startAwsEmulatorsThread } from './aws-emulators-thread.js';
import { bareRoundTrips, type RoundTripCounts, sampled, timed } from './bare-round-trips.js';
import { captureOutput } from './captured-output.js';
import { type CapturedRequest, countServerTraffic, recordClientRequests, waves } from './server-traffic.js';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const BOT_KEYS = {
  accessKeyId: 'ASIABOTLAMBDAROLE001',
  secretAccessKey: 'bot-lambda-secret',
  sessionToken: 'bot-lambda-session',
};
const SECRETS = { identity: 'machine-id/bench/identity', grafana: 'machine-id/bench/grafana' };

const RESOURCES = `kind: role
version: v7
metadata: {name: ops}
spec: {allow: {logins: [root], app_labels: {team: payments}}}
---
kind: app
version: v3
metadata: {name: grafana, labels: {team: payments}}
spec: {uri: 'https://grafana.internal'}
---
kind: bot
version: v1
metadata: {name: bench}
spec: {roles: [ops]}
---
kind: token
version: v2
metadata: {name: bench-iam}
spec:
  roles: [Bot]
  join_method: iam
  bot_name: bench
  allow: [{aws_account: '${ACCOUNT}', aws_arn: 'arn:aws:sts::${ACCOUNT}:assumed-role/bench-bot-role/*'}]
`;

/**
 * The bot's config as the MachineIdBot construct writes it (JSON, see `lib/infra/render-bot-config.ts`),
 * except that the agent trusts the stand-in's CA file instead of public roots.
 */
function botConfig(authServer: string, caPath: string): string {
  return JSON.stringify({
    version: 'v2',
    auth_server: authServer,
    onboarding: { join_method: 'iam', token: 'bench-iam', ca_path: caPath },
    storage: { type: 'memory' },
    oneshot: true,
    outputs: [
      { type: 'identity', destination: { type: 'aws_secrets_manager', name: SECRETS.identity } },
      {
        type: 'application',
        app_name: 'grafana',
        destination: { type: 'aws_secrets_manager', name: SECRETS.grafana },
      },
    ],
  });
}

type Handler = (event: unknown, context?: unknown) => Promise<unknown>;

/** Requests (and new TCP connections) one bot run causes at each server, averaged over the warm runs. */
export interface RunTraffic extends RoundTripCounts {
  /** Auth Lambda invocations through the API Gateway stand-in. */
  readonly auth: number;
  /** New TLS connections the bot opened to the stand-in. */
  readonly authConnections: number;
  readonly sts: number;
  readonly secretsManager: number;
  /** Secrets Manager operations of one run, in order. */
  readonly secretsManagerOperations: readonly string[];
  /** The auth Lambda's DynamoDB calls behind those auth calls (the bot waits on them through it). */
  readonly dynamodb: number;
}

/** How the last warm run's requests went out: the groups in flight at once, in order. */
export interface RunWaves {
  /** The auth Lambda's DynamoDB requests, captured whole so that the baseline can send them again. */
  readonly dynamodb: ReadonlyArray<readonly CapturedRequest[]>;
  /** Sizes of the bot's Secrets Manager waves. */
  readonly secretsManager: readonly number[];
}

export interface BotLambdaBench {
  /** The first invocation: the handler builds its agent and clients, pings, joins. */
  readonly coldMs: number;
  /** The warm-up runs, in order: a fresh process runs slower while V8 optimises the hot paths. */
  readonly warmUpMs: readonly number[];
  /**
   * The measured rounds, after the warm-up: in each, one warm run, then the bare round trips it waits
   * on (the baseline). Side by side, so that whatever else the machine does weighs on both alike.
   */
  readonly rounds: ReadonlyArray<{ readonly warmMs: number; readonly bareMs: number }>;
  /**
   * Rounds of the same bare round trips with the DynamoDB requests sent through the SDK client, each
   * next to the bare ones: apart from the measured rounds, whose warm runs its garbage would slow.
   */
  readonly sdkRounds: ReadonlyArray<{ readonly sdkMs: number; readonly bareMs: number }>;
  readonly traffic: RunTraffic;
  readonly waves: RunWaves;
  /** For reference, sampled after the rounds. */
  readonly references: {
    /** The bot's own round trips alone (pings, STS, DescribeSecret), one after another. */
    readonly ownMs: readonly number[];
    /** As many GetItem calls as the run's DynamoDB requests, one after another. */
    readonly getItemsMs: readonly number[];
    /** One ping on a new TLS connection. */
    readonly newConnectionPingMs: readonly number[];
  };
}

/** Runs whose requests are counted (and the last one's captured) to learn one run's traffic. */
const TRAFFIC_RUNS = 10;

/**
 * The serverless shape, as in `test/e2e/serverless.test.ts`: the bundled auth Lambda behind the HTTPS
 * API Gateway stand-in and the bundled bot Lambda in this thread, the DynamoDB (dynalite), Secrets
 * Manager and STS emulators in a thread of their own (`aws-emulators-thread.ts`: on AWS they are other
 * machines, so their work and their heap are not the Lambdas'). The bot Lambda is invoked once cold,
 * then `warmUpRuns` times to let V8 optimise (as it has in an auth Lambda that serves a fleet of bots),
 * then a few runs whose traffic is counted and captured,
 * then `runs` measured rounds of a warm run and its baseline side by side. Each run writes an `identity`
 * and an `application` output to Secrets Manager. The bundles are the files measured for size and cold
 * start.
 */
export async function benchBotLambda(
  bundles: { auth: string; bot: string },
  runs: number,
  warmUpRuns: number,
): Promise<BotLambdaBench> {
  const dir = mkdtempSync(join(tmpdir(), 'mid-bench-lambda-'));
  const savedEnv = { ...process.env };
  const stops: Array<() => Promise<void>> = [];
  const counter = countServerTraffic();
  const output = captureOutput();
  try {
    const emulators = await startAwsEmulatorsThread(EMULATORS_WORKER, {
      region: REGION,
      account: ACCOUNT,
      clusterName: 'bench.test',
      functionName: 'machine-id-bot-bench',
      bot: {
        ...BOT_KEYS,
        arn: `arn:aws:sts::${ACCOUNT}:assumed-role/bench-bot-role/machine-id-bot-bench`,
        account: ACCOUNT,
        userId: 'AROABENCHROLE:machine-id-bot-bench',
      },
    });
    stops.push(() => emulators.stop());
    Object.assign(process.env, emulators.environment);
    const auth = (await import(pathToFileURL(bundles.auth).href)) as { handler: Handler };
    const adapterCa = await createOpensslCa(dir, 'api gateway stand-in');
    const adapter = await startApiGatewayStandIn(adapterCa, auth.handler);
    stops.push(() => adapter.stop());
    await auth.handler({
      RequestType: 'Create',
      ResourceProperties: { ServiceToken: 'arn:aws:lambda:provider', Resources: RESOURCES },
    });
    process.env['MID_BOT_CONFIG'] = botConfig(adapter.url, adapterCa.certPath);
    const bot = (await import(pathToFileURL(bundles.bot).href)) as { handler: Handler };
    const event = { source: 'aws.scheduler', 'detail-type': 'Scheduled Event' };

    let start = performance.now();
    const first = (await bot.handler(event)) as { outputs: unknown[] };
    const coldMs = performance.now() - start;
    // A run that wrote less than asked would be fast for the wrong reason (failed runs throw anyway).
    if (first.outputs.length !== 2) throw new Error(`the bot wrote ${first.outputs.length} outputs, not 2`);

    const warmUpMs: number[] = [];
    for (let run = 0; run < warmUpRuns; run += 1) {
      start = performance.now();
      await bot.handler(event);
      warmUpMs.push(performance.now() - start);
    }

    const ports = {
      dynamodb: Number(new URL(emulators.dynamodbUrl).port),
      secretsManager: Number(new URL(emulators.secretsManagerUrl).port),
    };
    const before = {
      auth: adapter.invocations(),
      authConnections: counter.connections(adapter.port),
      emulators: await emulators.traffic(),
    };
    for (let run = 0; run < TRAFFIC_RUNS - 1; run += 1) await bot.handler(event);
    // The last of these runs is the one whose requests are kept: the emulators keep their bodies, this
    // thread when each went out and came back (the waves, as the Lambdas' clients sent them).
    await emulators.startCapturing();
    const clients = recordClientRequests([ports.dynamodb, ports.secretsManager]);
    await bot.handler(event);
    clients.stop();
    const lastRunRequests = await emulators.stopCapturing();
    const after = await emulators.traffic();
    const dynamodbWaveSizes = waves(clients.spans(ports.dynamodb)).map((wave) => wave.length);
    // Waves follow each other (the next starts once the last is answered), so the requests arrived
    // wave by wave and the arrival order splits into them.
    const runWaves: RunWaves = {
      dynamodb: dynamodbWaveSizes.map((size) => lastRunRequests.splice(0, size)),
      secretsManager: waves(clients.spans(ports.secretsManager)).map((wave) => wave.length),
    };
    if (lastRunRequests.length > 0) {
      throw new Error(
        `${lastRunRequests.length} DynamoDB requests arrived that the auth Lambda did not send`,
      );
    }
    const perRun = (total: number) => total / TRAFFIC_RUNS;
    const secretsManagerCalls = perRun(
      after.secretsManagerOperations - before.emulators.secretsManagerOperations,
    );
    const traffic: RunTraffic = {
      auth: perRun(adapter.invocations() - before.auth),
      authConnections: perRun(counter.connections(adapter.port) - before.authConnections),
      sts: perRun(after.sts - before.emulators.sts),
      secretsManager: secretsManagerCalls,
      secretsManagerOperations: await emulators.secretsManagerOperations(
        after.secretsManagerOperations - Math.round(secretsManagerCalls),
      ),
      dynamodb: perRun(after.dynamodb - before.emulators.dynamodb),
    };
    const bare = bareRoundTrips(traffic, runWaves, {
      authUrl: adapter.url,
      authCa: adapterCa.certPem,
      stsUrl: emulators.stsUrl,
      secretsManagerUrl: emulators.secretsManagerUrl,
      secretId: SECRETS.identity,
      dynamodbUrl: emulators.dynamodbUrl,
      tableName: emulators.tableName,
      region: REGION,
      credentials: BOT_KEYS,
    });
    stops.push(async () => bare.close());
    // The baselines get the warm-up the bot had: connections open, code paths optimised.
    for (let run = 0; run < warmUpRuns; run += 1) {
      await bare.fullRun();
      await bare.sdkRun();
    }
    const rounds: Array<{ warmMs: number; bareMs: number }> = [];
    for (let round = 0; round < runs; round += 1) {
      const warmMs = await timed(() => bot.handler(event));
      rounds.push({ warmMs, bareMs: await timed(bare.fullRun) });
    }
    const sdkRounds: Array<{ sdkMs: number; bareMs: number }> = [];
    for (let round = 0; round < runs; round += 1) {
      const sdkMs = await timed(bare.sdkRun);
      sdkRounds.push({ sdkMs, bareMs: await timed(bare.fullRun) });
    }
    const references = {
      ownMs: await sampled(bare.ownRun, runs, 20),
      getItemsMs: await sampled(bare.getItems, runs, 20),
      newConnectionPingMs: await sampled(bare.newConnectionPing, runs, 5),
    };
    return { coldMs, warmUpMs, rounds, sdkRounds, traffic, waves: runWaves, references };
  } catch (error) {
    output.restore();
    console.error(output.captured().join('\n'));
    throw error;
  } finally {
    output.restore();
    counter.stop();
    for (const stop of stops.reverse()) await stop();
    // Back to the caller's environment, in place: node's process.env is not a plain object.
    for (const name of Object.keys(process.env)) if (!(name in savedEnv)) delete process.env[name];
    Object.assign(process.env, savedEnv);
    rmSync(dir, { recursive: true, force: true });
  }
}
