import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../lib/api/routes.js';
import { createMtlsAgent } from '../../lib/consumer/create-mtls-agent.js';
import type { Identity } from '../../lib/consumer/identity.js';
import { IdentityLoader } from '../../lib/consumer/identity-loader.js';
import { writeIdentityFiles } from '../../lib/consumer/write-identity-files.js';
import type { LambdaHttpAdapter } from '../support/lambda-http-adapter.js';
import { type MtlsAppServer, startMtlsAppServer } from '../support/mtls-app-server.js';
import { createOpensslCa, type OpensslCa } from '../support/openssl-ca.js';
import { runCommand } from '../support/run-command.js';
import type { SecretsManagerEmulator } from '../support/secrets-manager-emulator.js';
import {
  type ServerlessStandIns,
  startApiGatewayStandIn,
  startServerlessStandIns,
} from '../support/serverless-stand-ins.js';
import { type SshdHandle, startSshd } from '../support/sshd.js';

const ACCOUNT = '123456789012';
const REGION = 'us-east-1';
const BOT_KEYS = {
  accessKeyId: 'ASIABOTLAMBDAROLE001',
  secretAccessKey: 'bot-lambda-secret',
  sessionToken: 'bot-lambda-session',
};
const BOT_ARN = `arn:aws:sts::${ACCOUNT}:assumed-role/robot-bot-role/machine-id-bot-robot`;
const SECRETS = {
  identity: 'machine-id/robot/identity',
  grafana: 'machine-id/robot/grafana',
  host: 'machine-id/robot/host',
};

function resources(nodeAddr: string): string {
  return `kind: role
version: v7
metadata: {name: ops}
spec:
  allow:
    logins: [root]
    node_labels: {'*': '*'}
    app_labels: {team: payments}
---
kind: role
version: v7
metadata: {name: hosts}
spec:
  allow:
    rules: [{resources: [host_cert], verbs: [create]}]
---
kind: app
version: v3
metadata: {name: grafana, labels: {team: payments}}
spec: {uri: 'https://grafana.internal'}
---
kind: node
sub_kind: openssh
version: v2
metadata: {name: node1}
spec: {addr: '${nodeAddr}', hostname: node1}
---
kind: bot
version: v1
metadata: {name: robot}
spec: {roles: [ops, hosts]}
---
kind: token
version: v2
metadata: {name: robot-iam}
spec:
  roles: [Bot]
  join_method: iam
  bot_name: robot
  allow: [{aws_account: '${ACCOUNT}', aws_arn: 'arn:aws:sts::${ACCOUNT}:assumed-role/robot-bot-role/*'}]
`;
}

function botConfig(authServer: string, caPath: string): string {
  const secret = (name: string) => `    destination: {type: aws_secrets_manager, name: ${name}}`;
  return `version: v2
auth_server: ${authServer}
onboarding: {join_method: iam, token: robot-iam, ca_path: ${caPath}}
storage: {type: memory}
oneshot: true
outputs:
  - type: identity
${secret(SECRETS.identity)}
  - type: application
    app_name: grafana
${secret(SECRETS.grafana)}
  - type: ssh_host
    principals: [node1.example.test]
${secret(SECRETS.host)}
`;
}

type Handler = (event: unknown, context?: unknown) => Promise<unknown>;

/**
 * The serverless shape end to end, in one process: the real `lambdas/bot.ts` handler invoked with a
 * scheduler event joins with IAM (STS emulator) through the real `lambdas/auth.ts` handler behind an
 * HTTPS stand-in for API Gateway, with its state in DynamoDB (dynalite) and its CAs in Secrets Manager
 * (emulator); the bot writes one secret per output; the consumer library reads them and uses them with
 * a real mTLS app and a real `ssh` into a real `sshd` configured from the bot's ssh_host output.
 */
describe('serverless: bot Lambda, auth Lambda, Secrets Manager, consumer', () => {
  let dir: string;
  let standIns: ServerlessStandIns;
  let secrets: SecretsManagerEmulator;
  let adapterCa: OpensslCa;
  let adapter: LambdaHttpAdapter;
  let sshd: SshdHandle | undefined;
  let app: MtlsAppServer | undefined;
  let authHandler: Handler;
  let botHandler: Handler;
  let secretsClient: SecretsManagerClient;
  const saved = { ...process.env };

  async function startAdapter(port?: number) {
    adapter = await startApiGatewayStandIn(adapterCa, (event, context) => authHandler(event, context), {
      ...(port === undefined ? {} : { port }),
    });
  }

  function provision(requestType: 'Create' | 'Update', nodeAddr: string, old?: string) {
    return authHandler({
      RequestType: requestType,
      ResourceProperties: { ServiceToken: 'arn:aws:lambda:provider', Resources: resources(nodeAddr) },
      ...(old === undefined
        ? {}
        : { OldResourceProperties: { Resources: old }, PhysicalResourceId: 'machine-id-resources' }),
    });
  }

  function versions(secretId: string) {
    return secrets.secrets.get(secretId)?.versions ?? [];
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mid-e2e-serverless-'));
    standIns = await startServerlessStandIns({
      region: REGION,
      account: ACCOUNT,
      clusterName: 'example.test',
      functionName: 'machine-id-bot-robot',
      bot: { ...BOT_KEYS, arn: BOT_ARN, account: ACCOUNT, userId: 'AROAROBOTROLE:machine-id-bot-robot' },
    });
    secrets = standIns.secrets;
    Object.assign(process.env, standIns.environment);
    authHandler = (await import('../../lambdas/auth.js')).handler as Handler;
    adapterCa = await createOpensslCa(dir, 'api gateway stand-in');
    await startAdapter();
    process.env['MID_BOT_CONFIG'] = botConfig(adapter.url, adapterCa.certPath);
    botHandler = (await import('../../lambdas/bot.js')).handler as Handler;
    secretsClient = new SecretsManagerClient({
      endpoint: secrets.url,
      region: REGION,
      credentials: { ...BOT_KEYS },
    });
  });

  afterAll(async () => {
    await app?.stop();
    await sshd?.stop();
    await adapter?.stop();
    await standIns?.stop();
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it('runs on schedule, writes one secret per output, and the consumer uses them with ssh and mTLS', async () => {
    await provision('Create', '127.0.0.1:22');
    const first = (await botHandler({ source: 'aws.scheduler', 'detail-type': 'Scheduled Event' })) as {
      instanceId: string;
      outputs: Array<{ target: string; serial: string }>;
    };
    expect(first.outputs).toHaveLength(3);
    for (const secretId of Object.values(SECRETS)) expect(versions(secretId)).toHaveLength(1);

    // An sshd configured from the bot's ssh_host output, read back with the consumer library.
    const loader = new IdentityLoader({ client: secretsClient });
    const host = await loader.load(SECRETS.host);
    const hostDir = join(dir, 'host');
    await writeIdentityFiles(host, hostDir);
    sshd = await startSshd({
      hostKeyPath: join(hostDir, 'ssh_host'),
      hostCertificatePath: join(hostDir, 'ssh_host-cert.pub'),
      trustedUserCaKeysPath: join(hostDir, 'ssh_host-user-ca.pub'),
    });
    const old = resources('127.0.0.1:22');
    await provision('Update', `127.0.0.1:${sshd.port}`, old);

    // The next scheduled run rotates every secret and stays the same bot instance.
    const second = (await botHandler({})) as typeof first;
    expect(second.instanceId).toBe(first.instanceId);
    const identityVersions = versions(SECRETS.identity);
    expect(identityVersions).toHaveLength(2);
    expect(identityVersions[0]?.stages).toEqual(['AWSPREVIOUS']);
    expect(identityVersions[1]?.stages).toEqual(['AWSCURRENT']);
    expect(JSON.parse(identityVersions[1]?.secretString ?? '{}')).toMatchObject({
      bot: 'robot',
      serial: second.outputs[0]?.serial,
    });

    // ssh with the folder the consumer library wrote from the identity secret.
    const identity = await new IdentityLoader({ client: secretsClient }).load(SECRETS.identity);
    const userDir = join(dir, 'user');
    await writeIdentityFiles(identity, userDir);
    const ssh = await runCommand('/usr/bin/ssh', [
      '-F',
      join(userDir, 'ssh_config'),
      '-o',
      'BatchMode=yes',
      'root@node1.example.test',
      'echo serverless-ok',
    ]);
    expect(ssh.stderr).not.toContain('Permission denied');
    expect(ssh.stdout.trim()).toBe('serverless-ok');

    // mTLS to an app that trusts the cluster's client CA and checks the app name the certificate carries.
    const grafana = await loader.load(SECRETS.grafana);
    const appCa = await createOpensslCa(dir, 'grafana server CA');
    const serving = await appCa.issue({
      commonName: '127.0.0.1',
      usage: 'server',
      ipAddresses: ['127.0.0.1'],
    });
    app = await startMtlsAppServer({
      serverCertPem: serving.certPem,
      serverKeyPem: serving.keyPem,
      clientCaPem: grafana.tlsCaCerts ?? '',
      authorize: (peer) => (peer.subjectaltname ?? '').includes('URI:mid://example.test/apps/grafana'),
    });
    const status = await httpsStatus(app.url, createMtlsAgent(grafana, { ca: appCa.certPem }));
    expect(status).toBe(200);
  });

  it('retries throttling and 5xx on PutSecretValue and still writes each secret once', async () => {
    secrets.setFault('PutSecretValue', { kind: 'throttle', times: 2 });
    const before = versions(SECRETS.identity).length;
    await botHandler({});
    secrets.setFault('PutSecretValue', { kind: 'internal-error', times: 1 });
    await botHandler({});
    expect(versions(SECRETS.identity)).toHaveLength(before + 2);
  });

  it('fails the invocation when the auth service is down, leaves every secret untouched, and consumers keep serving', async () => {
    const loader = new IdentityLoader({ client: secretsClient });
    const cached = await loader.load(SECRETS.grafana);
    const before = Object.values(SECRETS).map((secretId) => versions(secretId).length);
    const port = adapter.port;
    await adapter.stop();
    await expect(botHandler({})).rejects.toThrow(/auth service|reach|ECONNREFUSED/i);
    expect(Object.values(SECRETS).map((secretId) => versions(secretId).length)).toEqual(before);
    secrets.setFault('GetSecretValue', { kind: 'internal-error' });
    const served: Identity = await loader.load(SECRETS.grafana);
    expect(served.serial).toBe(cached.serial);
    secrets.setFault('GetSecretValue', undefined);
    // Recovery: the next run after the service is back succeeds.
    await startAdapter(port);
    await expect(botHandler({})).resolves.toMatchObject({ bot: 'robot' });
  });

  it("stops at an operator's lock of its instance or its whole bot with the message, secrets untouched, and runs again once unlocked", async () => {
    const { instanceId } = (await botHandler({})) as { instanceId: string };
    // An admin call as API Gateway hands it to the auth Lambda once its IAM authoriser has verified the
    // operator's SigV4 signature (`midctl --aws-iam lock`).
    const instanceLock = `${ROUTES.adminBotInstances}/robot/${instanceId}/lock`;
    const admin = (method: string, body?: unknown, path = instanceLock) =>
      authHandler(
        {
          version: '2.0',
          routeKey: '$default',
          rawPath: path,
          rawQueryString: '',
          headers: body === undefined ? {} : { 'content-type': 'application/json' },
          ...(body === undefined ? {} : { body: JSON.stringify(body), isBase64Encoded: false }),
          requestContext: {
            requestId: `admin-${method}`,
            http: {
              method,
              path,
              sourceIp: '127.0.0.1',
            },
            authorizer: { iam: { userArn: `arn:aws:sts::${ACCOUNT}:assumed-role/admin/oncall` } },
          },
        },
        { awsRequestId: `admin-${method}` },
      ) as Promise<{ statusCode: number }>;
    expect((await admin('POST', { message: 'role under review' })).statusCode).toBe(200);
    const before = Object.values(SECRETS).map((secretId) => versions(secretId).length);
    await expect(botHandler({})).rejects.toThrow(/locked by an operator at .*: role under review/);
    expect(Object.values(SECRETS).map((secretId) => versions(secretId).length)).toEqual(before);
    expect((await admin('DELETE')).statusCode).toBe(200);
    await expect(botHandler({})).resolves.toMatchObject({ instanceId });

    // The whole bot: its next run is refused at the join, once STS has said whose it is.
    const botLock = `${ROUTES.adminBots}/robot/lock`;
    expect(
      (await admin('POST', { message: 'account under review', ttl_seconds: 3600 }, botLock)).statusCode,
    ).toBe(200);
    const unlockedVersions = Object.values(SECRETS).map((secretId) => versions(secretId).length);
    await expect(botHandler({})).rejects.toThrow(
      /bot "robot" was locked by an operator at \S+: account under review\. It lifts by itself at \S+/,
    );
    expect(Object.values(SECRETS).map((secretId) => versions(secretId).length)).toEqual(unlockedVersions);
    expect((await admin('DELETE', undefined, botLock)).statusCode).toBe(200);
    await expect(botHandler({})).resolves.toMatchObject({ instanceId });
  });
});

function httpsStatus(url: string, agent: import('node:https').Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end();
  });
}
