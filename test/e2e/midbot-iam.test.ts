import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuthServerProcess, runMidbot, runMidctl, startAuthServerProcess } from '../support/cli.js';
import { runCommand } from '../support/run-command.js';
import { type StsEmulator, startStsEmulator } from '../support/sts-emulator.js';

const ACCOUNT = '123456789012';
const SESSION_ONE = {
  accessKeyId: 'ASIAEMULATORSESSION1',
  secretAccessKey: 'session-one-secret',
  sessionToken: 'session-one-token',
};
const SESSION_TWO = {
  accessKeyId: 'ASIAEMULATORSESSION2',
  secretAccessKey: 'session-two-secret',
  sessionToken: 'session-two-token',
};

/**
 * The iam join end to end with real processes: `midbot` signs sts:GetCallerIdentity with the AWS SDK's
 * signer and credentials from its environment, the auth service (`midctl auth start`) checks and rebuilds
 * the request and sends it to the local STS emulator (the only thing the test override changes is where
 * the connection goes), which verifies the signature and answers for the identity mapped to the keys.
 */
describe('midbot with the iam join method', () => {
  let dir: string;
  let sts: StsEmulator;
  let server: AuthServerProcess;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mid-e2e-iam-'));
    sts = await startStsEmulator({
      identities: [
        {
          ...SESSION_ONE,
          arn: `arn:aws:sts::${ACCOUNT}:assumed-role/ci-role/lambda-a`,
          account: ACCOUNT,
          userId: 'AROAEXAMPLEROLEID:lambda-a',
        },
        {
          ...SESSION_TWO,
          arn: `arn:aws:sts::${ACCOUNT}:assumed-role/ci-role/ecs-task-b`,
          account: ACCOUNT,
          userId: 'AROAEXAMPLEROLEID:ecs-task-b',
        },
      ],
    });
    server = await startAuthServerProcess(join(dir, 'data'), [
      '--cluster-name',
      'example.test',
      '--insecure-sts-endpoint-for-tests',
      sts.url,
    ]);
    writeFileSync(
      join(dir, 'resources.yaml'),
      `kind: role
version: v7
metadata:
  name: ops
spec:
  allow:
    logins: [root]
---
kind: token
version: v2
metadata:
  name: robot-iam
spec:
  roles: [Bot]
  join_method: iam
  bot_name: robot
  allow:
    - aws_account: "${ACCOUNT}"
      aws_arn: "arn:aws:sts::${ACCOUNT}:assumed-role/ci-role/*"
`,
    );
    expect(
      (await runMidctl(['--data-dir', server.dataDir, 'create', '-f', join(dir, 'resources.yaml')])).code,
    ).toBe(0);
    const added = await runMidctl([
      '--data-dir',
      server.dataDir,
      'bots',
      'add',
      'robot',
      '--roles=ops',
      '--token=robot-iam',
      '--format=json',
    ]);
    expect(added.code).toBe(0);
  });

  afterAll(async () => {
    await server?.stop();
    await sts?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  function oneshot(out: string, session: typeof SESSION_ONE) {
    return runMidbot(
      [
        'start',
        '--oneshot',
        '--join-method=iam',
        '--token=robot-iam',
        `--ca-pin=${server.caPin}`,
        `--auth-server=${server.url}`,
        `--destination-dir=${out}`,
      ],
      {
        env: {
          AWS_REGION: 'us-east-1',
          AWS_ACCESS_KEY_ID: session.accessKeyId,
          AWS_SECRET_ACCESS_KEY: session.secretAccessKey,
          AWS_SESSION_TOKEN: session.sessionToken,
          AWS_EC2_METADATA_DISABLED: 'true',
        },
      },
    );
  }

  async function instances(): Promise<
    Array<{ metadata: { name: string }; status: { aws_arn?: string; latest_authentications: unknown[] } }>
  > {
    const listed = await runMidctl([
      '--data-dir',
      server.dataDir,
      'get',
      'bot_instance/robot',
      '--format=json',
    ]);
    const parsed = JSON.parse(listed.stdout);
    return Array.isArray(parsed) ? parsed : [parsed];
  }

  it('joins without any secret, renders the outputs, and keeps one instance per role session', async () => {
    const out = join(dir, 'out-a');
    const first = await oneshot(out, SESSION_ONE);
    expect(first.stderr).not.toMatch(/ERROR/);
    expect(first.code).toBe(0);
    const verified = await runCommand('openssl', [
      'verify',
      '-CAfile',
      join(out, 'tlscacerts'),
      join(out, 'tlscert'),
    ]);
    expect(verified.stdout).toContain(': OK');
    expect(readFileSync(join(out, 'key-cert.pub'), 'utf8')).toMatch(
      /^ecdsa-sha2-nistp256-cert-v01@openssh.com /,
    );

    // The emulator saw our signed audience and challenge headers, from the auth service, not from midbot.
    const call = sts.requests.at(-1);
    expect(call?.headers['x-mid-cluster-name']).toBe('example.test');
    expect(call?.headers['x-mid-challenge']).toMatch(/^[A-Za-z0-9_-]{43}$/);

    // A Lambda re-joining every 20 minutes stays one instance with a growing history.
    expect((await oneshot(out, SESSION_ONE)).code).toBe(0);
    let all = await instances();
    expect(all).toHaveLength(1);
    expect(all[0]?.status.aws_arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/ci-role/lambda-a`);
    expect(all[0]?.status.latest_authentications).toHaveLength(2);

    // Another role session (an ECS task) is an instance of its own.
    expect((await oneshot(join(dir, 'out-b'), SESSION_TWO)).code).toBe(0);
    all = await instances();
    expect(all.map((instance) => instance.status.aws_arn).sort()).toEqual([
      `arn:aws:sts::${ACCOUNT}:assumed-role/ci-role/ecs-task-b`,
      `arn:aws:sts::${ACCOUNT}:assumed-role/ci-role/lambda-a`,
    ]);
  });

  it('is refused, and audited with the ARN, when the signature does not verify', async () => {
    const result = await oneshot(join(dir, 'out-c'), { ...SESSION_ONE, secretAccessKey: 'wrong-secret' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/ERROR: .*sts_denied|ERROR: .*STS/i);
    const events = JSON.parse(
      (
        await runMidctl([
          '--data-dir',
          server.dataDir,
          'events',
          'ls',
          '--type',
          'bot.join',
          '--format',
          'json',
        ])
      ).stdout,
    ) as Array<{
      outcome: string;
      code?: string;
    }>;
    expect(events[0]).toMatchObject({ outcome: 'failure', code: 'sts_denied' });
    expect(result.stderr).not.toContain('wrong-secret');
    expect(result.stderr).not.toContain(SESSION_ONE.sessionToken);
  });
});
