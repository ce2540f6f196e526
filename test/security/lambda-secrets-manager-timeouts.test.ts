import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalAuthServer, startLocalAuthServer } from '../../lib/auth/local/local-auth-server.js';
import { localServerFiles } from '../../lib/auth/local/local-server-files.js';
import { BotAgent } from '../../lib/bot/agent/bot-agent.js';
import { defaultDestinationFactory, MEMORY_ARTIFACT_DIR } from '../../lib/bot/agent/output-destinations.js';
import { OutputsFailedError } from '../../lib/bot/agent/outputs-failed-error.js';
import { timerSleep } from '../../lib/bot/agent/sleep.js';
import { awsJoinProof } from '../../lib/bot/aws/aws-agent-adapters.js';
import { type BotLambdaResult, runBotLambda } from '../../lib/bot/aws/bot-lambda-run.js';
import { loadBotConfig } from '../../lib/bot/config/load-bot-config.js';
import { createSecretsManagerClient } from '../../lib/bot/destinations/secrets-manager-client.js';
import {
  clientRequestTokenFor,
  SecretsManagerDestination,
} from '../../lib/bot/destinations/secrets-manager-destination.js';
import { systemClock } from '../../lib/core/clock.js';
import { silentLogger } from '../../lib/core/logger.js';
import { AWS_TEST_CREDENTIALS } from '../support/aws-test-credentials.js';
import {
  type SecretsManagerEmulator,
  startSecretsManagerEmulator,
} from '../support/secrets-manager-emulator.js';
import { type StsEmulator, startStsEmulator } from '../support/sts-emulator.js';

/**
 * Secrets Manager timing out during a scheduled bot Lambda run (SECURITY rule 13): the run is what the
 * bot Lambda handler does (`runBotLambda` with the iam join and the Secrets Manager destination), with
 * a client that times out after 250 ms like the real one does after 10 s. The invocation fails after a
 * bounded number of attempts, the last good value stays readable, and a write that landed but whose
 * answer was lost is never written twice.
 */
const SECRET = 'machine-id/robot/identity';
const ACCOUNT = '123456789012';
const BOT = {
  accessKeyId: 'ASIABOTLAMBDATIMEOUT',
  secretAccessKey: 'bot-lambda-secret-for-the-timeout-test',
  sessionToken: 'bot-lambda-session-for-the-timeout-test',
  arn: `arn:aws:sts::${ACCOUNT}:assumed-role/robot-bot-role/machine-id-bot-robot`,
  account: ACCOUNT,
  userId: 'AROAROBOTROLE7777777:machine-id-bot-robot',
};

let dir: string;
let sts: StsEmulator;
let sm: SecretsManagerEmulator;
let server: LocalAuthServer;
let agent: BotAgent;
const delays: number[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'mid-security-lambda-'));
  sts = await startStsEmulator({ identities: [BOT] });
  sm = await startSecretsManagerEmulator();
  server = await startLocalAuthServer({
    dataDir: join(dir, 'auth'),
    port: 0,
    clusterName: 'example.test',
    logger: silentLogger,
    iamJoin: { stsEndpointOverrideForTests: sts.url },
  });
  await server.service.admin.putResources(
    [
      { kind: 'role', version: 'v7', metadata: { name: 'ops' }, spec: { allow: { logins: ['root'] } } },
      { kind: 'bot', version: 'v1', metadata: { name: 'robot' }, spec: { roles: ['ops'] } },
      {
        kind: 'token',
        version: 'v2',
        metadata: { name: 'robot-iam' },
        spec: {
          roles: ['Bot'],
          join_method: 'iam',
          bot_name: 'robot',
          allow: [{ aws_account: ACCOUNT, aws_arn: `arn:aws:sts::${ACCOUNT}:assumed-role/robot-bot-role/*` }],
        },
      },
    ],
    false,
    'test',
  );
  // The config the MachineIdBot construct renders into MID_BOT_CONFIG.
  const { config } = loadBotConfig(
    `version: v2
auth_server: ${server.url}
onboarding: {join_method: iam, token: robot-iam, ca_path: ${localServerFiles(join(dir, 'auth')).hostCa}}
storage: {type: memory}
outputs:
  - type: identity
    destination: {type: aws_secrets_manager, name: ${SECRET}}
`,
    'MID_BOT_CONFIG',
  );
  const client = createSecretsManagerClient({
    region: sm.region,
    endpoint: sm.url,
    credentials: { ...AWS_TEST_CREDENTIALS },
    requestHandler: { connectionTimeout: 1_000, requestTimeout: 250, throwOnRequestTimeout: true },
  });
  agent = new BotAgent({
    config: { ...config, oneshot: true },
    clock: systemClock,
    sleep: timerSleep,
    logger: silentLogger,
    hostname: 'machine-id-bot-robot',
    joinProof: awsJoinProof(config.onboarding, { region: 'us-east-1', credentials: BOT }),
    // As awsDestinationFactory builds it, with the backoff's waits recorded instead of slept.
    destinationFactory: (destination, index) =>
      destination.type === 'aws_secrets_manager'
        ? {
            destination: new SecretsManagerDestination({
              client,
              secretId: destination.name,
              sleep: async (ms) => {
                delays.push(ms);
              },
            }),
            artifactDir: MEMORY_ARTIFACT_DIR,
          }
        : defaultDestinationFactory(destination, index),
  });
});

afterAll(async () => {
  agent?.close();
  await server?.close();
  await sm?.stop();
  await sts?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const invoke = () =>
  runBotLambda(
    agent,
    { source: 'aws.scheduler' },
    {
      clock: systemClock,
      logger: silentLogger,
      functionName: 'machine-id-bot-robot',
      emit: () => {},
    },
  );

const versions = () => sm.secrets.get(SECRET)?.versions ?? [];
const puts = () => sm.calls.filter((call) => call === 'PutSecretValue').length;

async function failedRun(): Promise<OutputsFailedError> {
  const error = await invoke().then(
    () => {
      throw new Error('expected the invocation to fail');
    },
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(OutputsFailedError);
  return error as OutputsFailedError;
}

describe('a bot Lambda run while Secrets Manager times out', () => {
  let first: BotLambdaResult;

  it('writes the first version normally', async () => {
    first = await invoke();
    expect(versions()).toHaveLength(1);
    expect(versions()[0]?.stages).toEqual(['AWSCURRENT']);
  });

  it('fails after five attempts when every answer is lost, and a write that landed is there once', async () => {
    const before = versions()[0]?.secretString;
    const putsBefore = puts();
    delays.length = 0;
    // Each PutSecretValue is carried out, and its answer held past the client's timeout.
    sm.setFault('PutSecretValue', { kind: 'delay', ms: 1_000 });
    try {
      const error = await failedRun();
      expect(error.message).toMatch(/PutSecretValue failed 5 time\(s\), last with TimeoutError/);
    } finally {
      sm.setFault('PutSecretValue', undefined);
    }
    expect(puts() - putsBefore).toBe(5);
    expect(delays).toHaveLength(4);
    delays.forEach((delay, i) => {
      expect(delay).toBeLessThanOrEqual(Math.min(5_000, 200 * 2 ** i));
    });
    // Five attempts, one request token: one new version, the previous one kept whole as AWSPREVIOUS.
    expect(versions()).toHaveLength(2);
    expect(versions()[0]).toMatchObject({ stages: ['AWSPREVIOUS'], secretString: before });
    expect(versions()[1]?.stages).toEqual(['AWSCURRENT']);
    const landed = JSON.parse(versions()[1]?.secretString ?? '{}') as { serial: string };
    expect(versions()[1]?.versionId).toBe(clientRequestTokenFor(SECRET, landed.serial));
    expect(landed.serial).not.toBe(first.outputs[0]?.serial);
  });

  it('fails after five attempts when no write lands, and the last good version stays current', async () => {
    const current = versions()[1];
    const count = versions().length;
    const putsBefore = puts();
    // Each PutSecretValue is held past the client's timeout before it would be carried out.
    sm.setFault('PutSecretValue', { kind: 'delay', ms: 60_000, process: 'after-delay' });
    try {
      await failedRun();
    } finally {
      sm.setFault('PutSecretValue', undefined);
    }
    expect(puts() - putsBefore).toBe(5);
    expect(versions()).toHaveLength(count);
    expect(versions()[1]).toEqual(current);
  });

  it('writes the next version at the next run once Secrets Manager answers again', async () => {
    const count = versions().length;
    const next = await invoke();
    expect(versions()).toHaveLength(count + 1);
    expect(JSON.parse(versions()[count]?.secretString ?? '{}')).toMatchObject({
      serial: next.outputs[0]?.serial,
    });
    expect(versions()[count]?.stages).toEqual(['AWSCURRENT']);
  });
});
