import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../lib/api/api-client.js';
import type { BotIdentityResponse } from '../../lib/api/bot-identity.js';
import { ROUTES } from '../../lib/api/routes.js';
import { publicKeyToPem } from '../../lib/pki/key-encoding.js';
import { generateKeyPair } from '../../lib/pki/signature-suite.js';
import { runMidctl } from '../support/cli.js';
import type { LambdaHttpAdapter } from '../support/lambda-http-adapter.js';
import { createOpensslCa } from '../support/openssl-ca.js';
import {
  type ServerlessStandIns,
  startApiGatewayStandIn,
  startServerlessStandIns,
} from '../support/serverless-stand-ins.js';

const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
/** An operator's assumed-role session: what `aws sso login` or `aws sts assume-role` leaves in the env. */
const ADMIN = {
  credentials: {
    accessKeyId: 'ASIAOPSADMINSESSION1',
    secretAccessKey: 'ops-admin-secret-key',
    sessionToken: 'ops-admin-session-token',
  },
  arn: `arn:aws:sts::${ACCOUNT}:assumed-role/machine-id-admin/alice`,
};
const ROLE_YAML = `kind: role
version: v7
metadata: {name: deployers}
spec: {allow: {logins: [deploy]}}
`;

type Handler = (event: unknown, context: { awsRequestId: string }) => Promise<unknown>;

/**
 * `midctl --aws-iam` against the deployed shape: the real auth Lambda handler (DynamoDB on dynalite)
 * behind the API Gateway stand-in, whose admin routes verify SigV4 for `execute-api` as the deployed
 * API's IAM authoriser does. midctl runs as a real process with the operator's keys in its environment
 * and trusts the stand-in's CA through NODE_EXTRA_CA_CERTS (the real API has a public certificate).
 */
describe('midctl --aws-iam: administering the auth Lambda through an IAM-authorised API', () => {
  let dir: string;
  let standIns: ServerlessStandIns;
  let adapter: LambdaHttpAdapter;
  let caPath: string;
  const saved = { ...process.env };

  const midctl = (args: readonly string[], options: { input?: string; secretAccessKey?: string } = {}) =>
    runMidctl(['--auth-server', adapter.url, ...args], {
      env: {
        NODE_EXTRA_CA_CERTS: caPath,
        AWS_ACCESS_KEY_ID: ADMIN.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: options.secretAccessKey ?? ADMIN.credentials.secretAccessKey,
        AWS_SESSION_TOKEN: ADMIN.credentials.sessionToken,
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_CONFIG_FILE: join(dir, 'no-aws-config'),
        AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-aws-credentials'),
      },
      ...(options.input === undefined ? {} : { input: options.input }),
    });

  /** `midctl events ls --type TYPE --format json`, signed. */
  const auditEvents = (type: string) =>
    midctl(['--aws-iam', '--aws-region', REGION, 'events', 'ls', '--type', type, '--format', 'json']);

  /** A request straight to the API, with no signature, as anyone on the internet may send one. */
  const unsigned = (method: string, path: string, body?: string) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const headers = body === undefined ? {} : { 'content-type': 'application/json' };
      const req = request(
        `${adapter.url}${path}`,
        { method, ca: readFileSync(caPath, 'utf8'), headers },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (chunk: Buffer) => chunks.push(chunk));
          res.on('end', () =>
            resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
          );
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mid-e2e-aws-iam-'));
    standIns = await startServerlessStandIns({
      region: REGION,
      account: ACCOUNT,
      clusterName: 'iam-admin.test',
      functionName: 'machine-id-bot-unused',
      bot: {
        accessKeyId: 'ASIABOTUNUSED0000001',
        secretAccessKey: 'bot-secret',
        sessionToken: 'bot-session',
        arn: `arn:aws:sts::${ACCOUNT}:assumed-role/bot/machine-id-bot-unused`,
        account: ACCOUNT,
        userId: 'AROABOT:machine-id-bot-unused',
      },
    });
    Object.assign(process.env, standIns.environment);
    const handler = (await import('../../lambdas/auth.js')).handler as Handler;
    const ca = await createOpensslCa(dir, 'api gateway stand-in');
    caPath = ca.certPath;
    adapter = await startApiGatewayStandIn(ca, handler, {
      iamAuthoriser: { region: REGION, principals: [ADMIN] },
    });
  });

  afterAll(async () => {
    await adapter?.stop();
    await standIns?.stop();
    process.env = saved;
    rmSync(dir, { recursive: true, force: true });
  });

  it('signs every admin call with the operator credentials, and the audit log names the operator', async () => {
    const status = await midctl(['--aws-iam', '--aws-region', REGION, 'status']);
    expect(status.stderr).toBe('');
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/^Cluster {6}iam-admin\.test$/m);
    expect(status.stdout).toMatch(/^CA pin {7}sha256:[0-9a-f]{64}$/m);

    const created = await midctl(['--aws-iam', '--aws-region', REGION, 'create', '-f', '-'], {
      input: ROLE_YAML,
    });
    expect(created.code).toBe(0);
    const roles = await midctl(['--aws-iam', '--aws-region', REGION, 'get', 'roles', '--format', 'json']);
    expect(roles.stdout).toContain('"name": "deployers"');
    const events = await auditEvents('resource.create');
    const [event] = JSON.parse(events.stdout) as Array<Record<string, unknown>>;
    expect(event).toMatchObject({ type: 'resource.create', resource: 'role/deployers', actor: ADMIN.arn });
  });

  it('locks a bot instance and a whole bot kept in DynamoDB, names the operator on the lock and in the audit log, and unlocks them', async () => {
    const iam = ['--aws-iam', '--aws-region', REGION];
    await midctl([...iam, 'create', '-f', '-'], {
      input: 'kind: role\nversion: v7\nmetadata: {name: lockers}\nspec: {allow: {logins: [deploy]}}\n',
    });
    const added = await midctl([...iam, 'bots', 'add', 'suspect', '--roles=lockers', '--format', 'json']);
    expect(added.code).toBe(0);
    const { token } = JSON.parse(added.stdout) as { token: string };
    const client = new ApiClient({ baseUrl: adapter.url, ca: readFileSync(caPath, 'utf8') });
    const identity = await client
      .call<BotIdentityResponse>({
        method: 'POST',
        path: ROUTES.join,
        body: {
          join_method: 'token',
          token,
          public_key: publicKeyToPem(generateKeyPair('balanced', 'subject').publicKey),
        },
      })
      .finally(() => client.close());
    const ref = `bot_instance/suspect/${identity.instance_id}`;
    // The join is on record with the address API Gateway saw (`requestContext.http.sourceIp`).
    const joins = JSON.parse((await auditEvents('bot.join')).stdout) as Array<Record<string, unknown>>;
    expect(joins.find((event) => event['instance'] === identity.instance_id)).toMatchObject({
      outcome: 'success',
      bot: 'suspect',
      remote_addr: '127.0.0.1',
    });

    const locked = await midctl([...iam, 'lock', ref, '--message', 'rotating the role']);
    expect(locked.stderr).toBe('');
    expect(locked.code).toBe(0);
    const shown = await midctl([...iam, 'get', ref, '--format', 'json']);
    expect(JSON.parse(shown.stdout).status.locked).toMatchObject({
      reason: 'rotating the role',
      by: ADMIN.arn,
    });
    const [lock] = JSON.parse((await auditEvents('bot.lock')).stdout) as Array<Record<string, unknown>>;
    expect(lock).toMatchObject({ code: 'operator_lock', actor: ADMIN.arn, instance: identity.instance_id });

    const unlocked = await midctl([...iam, 'unlock', ref]);
    expect(unlocked.code).toBe(0);
    const after = await midctl([...iam, 'get', ref, '--format', 'json']);
    expect(JSON.parse(after.stdout).status.locked).toBeUndefined();
    const [unlock] = JSON.parse((await auditEvents('bot.unlock')).stdout) as Array<Record<string, unknown>>;
    expect(unlock).toMatchObject({ actor: ADMIN.arn, bot: 'suspect' });

    // The whole bot, until a set time.
    const expires = new Date(Date.now() + 3_600_000).toISOString();
    const botLocked = await midctl([...iam, 'lock', 'bot/suspect', '--expires', expires]);
    expect(botLocked.stderr).toBe('');
    expect(botLocked.stdout).toContain(`bot "suspect" is locked (until ${expires}): no reason given`);
    const bot = await midctl([...iam, 'get', 'bot/suspect', '--format', 'json']);
    expect(JSON.parse(bot.stdout).status.locked).toMatchObject({ by: ADMIN.arn, expires });
    expect((await midctl([...iam, 'unlock', 'bot/suspect'])).code).toBe(0);
    const events = JSON.parse((await auditEvents('bot.unlock')).stdout) as Array<Record<string, unknown>>;
    expect(events[0]).toMatchObject({ actor: ADMIN.arn, bot: 'suspect' });
    expect(events[0]?.['instance']).toBeUndefined();
  });

  it('is refused at the API with the wrong secret key, and changes nothing', async () => {
    const refused = await midctl(['--aws-iam', '--aws-region', REGION, 'create', '-f', '-'], {
      input: ROLE_YAML.replace('deployers', 'intruders'),
      secretAccessKey: 'not-the-operator-secret',
    });
    expect(refused.code).toBe(1);
    expect(refused.stdout).toBe('');
    expect(refused.stderr).toContain(
      'ERROR: the API in front of the auth service answered HTTP 403: The request signature we calculated does not match',
    );
    expect(refused.stderr).toContain('execute-api:Invoke on the stack output AdminInvokeArn');
    const roles = await midctl(['--aws-iam', '--aws-region', REGION, 'get', 'roles', '--format', 'json']);
    expect(roles.code).toBe(0);
    const names = (JSON.parse(roles.stdout) as Array<{ metadata: { name: string } }>).map(
      (r) => r.metadata.name,
    );
    expect(names).toContain('deployers');
    expect(names).not.toContain('intruders');
  });

  it('an unsigned admin call is refused by the authoriser before the handler runs', async () => {
    const before = adapter.invocations();
    const answer = await unsigned('GET', ROUTES.adminStatus);
    expect(answer.status).toBe(403);
    expect(answer.body).toContain('missing Authentication Token');
    expect(adapter.invocations()).toBe(before);
  });

  it('shows the audit record of a refusal the auth Lambda made before routing: an oversized join, 413', async () => {
    const answer = await unsigned(
      'POST',
      ROUTES.join,
      JSON.stringify({ join_method: 'token', token: 'x'.repeat(70_000) }),
    );
    expect(answer.status).toBe(413);
    expect(JSON.parse(answer.body).error.code).toBe('body_too_large');
    const events = await auditEvents('bot.join');
    expect(JSON.parse(events.stdout)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ code: 'body_too_large', outcome: 'failure', remote_addr: '127.0.0.1' }),
      ]),
    );
  });

  it('explains what is missing: the region of a non-execute-api address, the address itself', async () => {
    const noRegion = await midctl(['--aws-iam', 'status']);
    expect(noRegion.code).toBe(1);
    expect(noRegion.stderr).toContain('cannot tell the AWS region of 127.0.0.1');
    expect(noRegion.stderr).toContain('pass --aws-region REGION');

    const regionAlone = await midctl(['--aws-region', REGION, 'status']);
    expect(regionAlone.code).toBe(1);
    expect(regionAlone.stderr).toContain(`--aws-region ${REGION} only applies with --aws-iam`);

    const noServer = await runMidctl(['--aws-iam', 'status']);
    expect(noServer.code).toBe(1);
    expect(noServer.stderr).toContain('--aws-iam needs --auth-server');
    expect(noServer.stderr).toContain('the stack output AuthServer');
  });

  it('says how to sign in when no AWS credentials are found, and sends nothing', async () => {
    const before = adapter.invocations();
    const refused = await runMidctl(
      ['--auth-server', adapter.url, '--aws-iam', '--aws-region', REGION, 'status'],
      {
        env: {
          NODE_EXTRA_CA_CERTS: caPath,
          AWS_ACCESS_KEY_ID: '',
          AWS_SECRET_ACCESS_KEY: '',
          AWS_SESSION_TOKEN: '',
          AWS_EC2_METADATA_DISABLED: 'true',
          AWS_CONFIG_FILE: join(dir, 'no-aws-config'),
          AWS_SHARED_CREDENTIALS_FILE: join(dir, 'no-aws-credentials'),
        },
      },
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(
      /^ERROR: --aws-iam: no AWS credentials found \(.+\); sign in first: set AWS_PROFILE/,
    );
    expect(refused.stderr).toContain('export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY');
    expect(adapter.invocations()).toBe(before);
  });

  it('lists --aws-iam and --aws-region in --help', async () => {
    const help = await runMidctl(['--help']);
    expect(help.stdout).toContain('--aws-iam');
    expect(help.stdout).toContain('--aws-region <region>');
  });
});
