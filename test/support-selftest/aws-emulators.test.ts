import { request as httpRequest } from 'node:http';
import { Sha256 } from '@aws-crypto/sha256-js';
import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DynamoDBClient,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreateSecretCommand,
  DeleteSecretCommand,
  DescribeSecretCommand,
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  PutSecretValueCommand,
  ResourceExistsException,
  ResourceNotFoundException,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { AWS_TEST_CREDENTIALS } from '../support/aws-test-credentials.js';
import { type RunningDynalite, startDynalite } from '../support/dynalite.js';
import {
  type SecretsManagerEmulator,
  startSecretsManagerEmulator,
} from '../support/secrets-manager-emulator.js';
import { type StsEmulator, type StsIdentity, startStsEmulator } from '../support/sts-emulator.js';

const GET_CALLER_IDENTITY = 'Action=GetCallerIdentity&Version=2011-06-15';
const STS_HOST = 'sts.us-east-1.amazonaws.com';
const CHALLENGE = 'q2W1mZ0tYb3nL8xV7cR4kP9sD6fG5hJ2aE1uI0oT3yQ';

const alice: StsIdentity = {
  accessKeyId: 'AKIAALICE00000000001',
  secretAccessKey: 'alice-secret-access-key-0000000000000000',
  arn: 'arn:aws:iam::111122223333:user/alice',
  account: '111122223333',
  userId: 'AIDAALICE000000000001',
};

const botRole: StsIdentity = {
  accessKeyId: 'ASIABOTROLE000000001',
  secretAccessKey: 'bot-role-secret-access-key-000000000000',
  sessionToken: 'session-token-for-the-bot-role-A',
  arn: 'arn:aws:sts::111122223333:assumed-role/mid-bot/i-0abc123',
  account: '111122223333',
  userId: 'AROABOTROLE000000001:i-0abc123',
};

interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Sends with node:http so the `host` header can name the real STS host while the socket goes to the emulator. */
function sendRaw(
  port: number,
  request: { method: string; path: string; headers: Record<string, string>; body: string },
): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: request.method,
        path: request.path,
        headers: { ...request.headers, 'content-length': String(Buffer.byteLength(request.body)) },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(request.body);
  });
}

/** Signs the request the way the agent will: POST / for the real STS host, challenge and cluster in signed headers. */
async function signLikeTheAgent(
  identity: StsIdentity,
  options: { service?: string; unsignable?: string[]; body?: string; signingDate?: Date } = {},
) {
  const signer = new SignatureV4({
    service: options.service ?? 'sts',
    region: 'us-east-1',
    credentials: {
      accessKeyId: identity.accessKeyId,
      secretAccessKey: identity.secretAccessKey,
      ...(identity.sessionToken !== undefined ? { sessionToken: identity.sessionToken } : {}),
    },
    sha256: Sha256,
  });
  const unsigned = new HttpRequest({
    method: 'POST',
    protocol: 'https:',
    hostname: STS_HOST,
    path: '/',
    headers: {
      host: STS_HOST,
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      'x-mid-challenge': CHALLENGE,
      'x-mid-cluster-name': 'alpha.example.com',
    },
    body: options.body ?? GET_CALLER_IDENTITY,
  });
  const signed = await signer.sign(unsigned, {
    ...(options.unsignable !== undefined ? { unsignableHeaders: new Set(options.unsignable) } : {}),
    ...(options.signingDate !== undefined ? { signingDate: options.signingDate } : {}),
  });
  return { headers: { ...signed.headers } as Record<string, string>, body: String(signed.body) };
}

function errorCodeIn(xml: string): string | undefined {
  return /<Code>([^<]*)<\/Code>/.exec(xml)?.[1];
}

describe('STS emulator', () => {
  let sts: StsEmulator;
  let now: number;
  const clients: Array<{ destroy(): void }> = [];

  const stsClient = (
    identity: Pick<StsIdentity, 'accessKeyId' | 'secretAccessKey' | 'sessionToken'>,
    extra = {},
  ) => {
    const client = new STSClient({
      region: 'us-east-1',
      endpoint: sts.url,
      credentials: {
        accessKeyId: identity.accessKeyId,
        secretAccessKey: identity.secretAccessKey,
        ...(identity.sessionToken !== undefined ? { sessionToken: identity.sessionToken } : {}),
      },
      ...extra,
    });
    clients.push(client);
    return client;
  };

  beforeEach(async () => {
    now = Date.now();
    sts = await startStsEmulator({ identities: [alice, botRole], clock: () => now, region: 'us-east-1' });
  });

  afterEach(async () => {
    for (const client of clients.splice(0)) client.destroy();
    await sts.stop();
  });

  it('answers GetCallerIdentity with the identity whose keys signed the SDK request', async () => {
    const answer = await stsClient(alice).send(new GetCallerIdentityCommand({}));

    expect(answer).toMatchObject({ Arn: alice.arn, Account: alice.account, UserId: alice.userId });
    expect(sts.requests).toHaveLength(1);
    expect(sts.requests[0]?.body).toBe(GET_CALLER_IDENTITY);
    expect(sts.requests[0]?.response?.status).toBe(200);
  });

  it('answers for temporary credentials that carry their session token', async () => {
    const answer = await stsClient(botRole).send(new GetCallerIdentityCommand({}));

    expect(answer.Arn).toBe(botRole.arn);
    expect(sts.requests[0]?.headers['x-amz-security-token']).toBe(botRole.sessionToken);
  });

  it('refuses a request signed with the wrong secret key as SignatureDoesNotMatch', async () => {
    const client = stsClient({ ...alice, secretAccessKey: 'not-alices-secret' });

    const error = await client.send(new GetCallerIdentityCommand({})).catch((e: unknown) => e);

    expect(error).toMatchObject({ name: 'SignatureDoesNotMatch', $metadata: { httpStatusCode: 403 } });
    expect(sts.requests).toHaveLength(1);
  });

  it('refuses an access key it does not know as InvalidClientTokenId', async () => {
    const client = stsClient({ accessKeyId: 'AKIAUNKNOWN000000001', secretAccessKey: 'whatever' });

    await expect(client.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({
      name: 'InvalidClientTokenId',
      $metadata: { httpStatusCode: 403 },
    });
  });

  it('refuses temporary credentials whose session token does not match', async () => {
    const wrongToken = stsClient({ ...botRole, sessionToken: 'session-token-for-the-bot-role-B' });
    const noToken = stsClient({ accessKeyId: botRole.accessKeyId, secretAccessKey: botRole.secretAccessKey });

    await expect(wrongToken.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({
      name: 'InvalidClientTokenId',
    });
    await expect(noToken.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({
      name: 'InvalidClientTokenId',
    });
  });

  it('refuses a request signed 20 minutes before the emulator clock', async () => {
    now = Date.now() + 20 * 60 * 1000;

    const error = await stsClient(alice, { maxAttempts: 1 })
      .send(new GetCallerIdentityCommand({}))
      .catch((e: unknown) => e);

    expect(error).toMatchObject({ name: 'SignatureDoesNotMatch', $metadata: { httpStatusCode: 403 } });
    expect((error as Error).message).toMatch(/^Signature expired: \d{8}T\d{6}Z is now earlier than/);
  });

  it('sends its clock in the Date header, so the SDK corrects a skewed clock and retries like with AWS', async () => {
    now = Date.now() + 20 * 60 * 1000;

    const answer = await stsClient(alice).send(new GetCallerIdentityCommand({}));

    expect(answer.Arn).toBe(alice.arn);
    expect(sts.requests.map((r) => r.response?.status)).toEqual([403, 200]);
  });

  it('verifies a request the agent signed for the real STS host and records its custom signed headers', async () => {
    const signed = await signLikeTheAgent(alice);

    const answer = await sendRaw(sts.port, { method: 'POST', path: '/', ...signed });

    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('text/xml');
    expect(answer.body).toContain(`<Arn>${alice.arn}</Arn>`);
    expect(answer.body).toContain(`<Account>${alice.account}</Account>`);
    const received = sts.requests[0];
    expect(received?.headers).toMatchObject({
      host: STS_HOST,
      'x-mid-challenge': CHALLENGE,
      'x-mid-cluster-name': 'alpha.example.com',
    });
    expect(received?.headers['authorization']).toMatch(
      /SignedHeaders=[^,]*x-mid-challenge;x-mid-cluster-name/,
    );
  });

  it('verifies a request made with temporary credentials by hand', async () => {
    const signed = await signLikeTheAgent(botRole);

    const answer = await sendRaw(sts.port, { method: 'POST', path: '/', ...signed });

    expect(answer.status).toBe(200);
    expect(answer.body).toContain(`<Arn>${botRole.arn}</Arn>`);
  });

  it.each([
    ['the challenge', (h: Record<string, string>) => ({ ...h, 'x-mid-challenge': `${CHALLENGE}x` })],
    ['the cluster name', (h: Record<string, string>) => ({ ...h, 'x-mid-cluster-name': 'beta.example.com' })],
    ['the host', (h: Record<string, string>) => ({ ...h, host: 'sts.us-west-2.amazonaws.com' })],
    ['the date', (h: Record<string, string>) => ({ ...h, 'x-amz-date': bumpSecond(h['x-amz-date'] ?? '') })],
    [
      'the content type',
      (h: Record<string, string>) => ({ ...h, 'content-type': 'application/x-www-form-urlencoded' }),
    ],
    [
      'the declared payload hash',
      (h: Record<string, string>) => ({ ...h, 'x-amz-content-sha256': '0'.repeat(64) }),
    ],
  ])('refuses the agent request when %s is changed after signing', async (_what, tamper) => {
    const signed = await signLikeTheAgent(alice);

    const answer = await sendRaw(sts.port, {
      method: 'POST',
      path: '/',
      headers: tamper(signed.headers),
      body: signed.body,
    });

    expect(answer.status).toBe(403);
    expect(answer.headers['content-type']).toBe('text/xml');
    expect(errorCodeIn(answer.body)).toBe('SignatureDoesNotMatch');
    expect(answer.body).toMatch(/<ErrorResponse xmlns="https:\/\/sts.amazonaws.com\/doc\/2011-06-15\/">/);
    expect(answer.body).toContain('<Type>Sender</Type>');
    expect(answer.body).toMatch(/<RequestId>[0-9a-f-]{36}<\/RequestId>/);
  });

  it('refuses a body changed after signing even when x-amz-content-sha256 still claims the old hash', async () => {
    const signed = await signLikeTheAgent(alice);

    const answer = await sendRaw(sts.port, {
      method: 'POST',
      path: '/',
      headers: signed.headers,
      body: 'Action=GetCallerIdentity&Version=2011-06-15&Extra=1',
    });

    expect(answer.status).toBe(403);
    expect(errorCodeIn(answer.body)).toBe('SignatureDoesNotMatch');
  });

  it('refuses a signature that leaves host out of SignedHeaders', async () => {
    const signed = await signLikeTheAgent(alice, { unsignable: ['host'] });

    const answer = await sendRaw(sts.port, { method: 'POST', path: '/', ...signed });

    expect(signed.headers['authorization']).not.toMatch(/SignedHeaders=[^,]*host/);
    expect(answer.status).toBe(403);
    expect(answer.body).toContain('must be a &apos;SignedHeader&apos;');
  });

  it('refuses a credential scoped to another service', async () => {
    const signed = await signLikeTheAgent(alice, { service: 'iam' });

    const answer = await sendRaw(sts.port, { method: 'POST', path: '/', ...signed });

    expect(answer.status).toBe(403);
    expect(answer.body).toContain('Credential should be scoped to correct service: &apos;sts&apos;.');
  });

  it('refuses a request signed 16 minutes in the future', async () => {
    const signed = await signLikeTheAgent(alice, { signingDate: new Date(now + 16 * 60 * 1000) });

    const answer = await sendRaw(sts.port, { method: 'POST', path: '/', ...signed });

    expect(answer.status).toBe(403);
    expect(answer.body).toContain('Signature not yet current');
  });

  it('verifies a GET whose action is in the query string', async () => {
    const signer = new SignatureV4({
      service: 'sts',
      region: 'us-east-1',
      credentials: { accessKeyId: alice.accessKeyId, secretAccessKey: alice.secretAccessKey },
      sha256: Sha256,
    });
    const signed = await signer.sign(
      new HttpRequest({
        method: 'GET',
        protocol: 'https:',
        hostname: STS_HOST,
        path: '/',
        query: { Version: '2011-06-15', Action: 'GetCallerIdentity' },
        headers: { host: STS_HOST },
      }),
    );

    const answer = await sendRaw(sts.port, {
      method: 'GET',
      path: `/?${GET_CALLER_IDENTITY}`,
      headers: { ...signed.headers },
      body: '',
    });

    expect(answer.status).toBe(200);
    expect(answer.body).toContain(`<Arn>${alice.arn}</Arn>`);
  });

  it('refuses a request without an Authorization header as MissingAuthenticationToken', async () => {
    const answer = await sendRaw(sts.port, {
      method: 'POST',
      path: '/',
      headers: { host: STS_HOST, 'content-type': 'application/x-www-form-urlencoded' },
      body: GET_CALLER_IDENTITY,
    });

    expect(answer.status).toBe(403);
    expect(errorCodeIn(answer.body)).toBe('MissingAuthenticationToken');
  });

  it('answers another action, correctly signed, with InvalidAction', async () => {
    const signed = await signLikeTheAgent(alice, { body: 'Action=AssumeRole&Version=2011-06-15' });

    const answer = await sendRaw(sts.port, { method: 'POST', path: '/', ...signed });

    expect(answer.status).toBe(400);
    expect(errorCodeIn(answer.body)).toBe('InvalidAction');
  });

  it('answers in JSON when the request asks for application/json', async () => {
    const signed = await signLikeTheAgent(alice);

    const ok = await sendRaw(sts.port, {
      method: 'POST',
      path: '/',
      headers: { ...signed.headers, accept: 'application/json' },
      body: signed.body,
    });
    const refused = await sendRaw(sts.port, {
      method: 'POST',
      path: '/',
      headers: { ...signed.headers, accept: 'application/json', 'x-mid-challenge': 'other' },
      body: signed.body,
    });

    expect(ok.status).toBe(200);
    expect(ok.headers['content-type']).toBe('application/json');
    expect(JSON.parse(ok.body)).toEqual({
      GetCallerIdentityResponse: {
        GetCallerIdentityResult: { Account: alice.account, Arn: alice.arn, UserId: alice.userId },
        ResponseMetadata: { RequestId: expect.stringMatching(/^[0-9a-f-]{36}$/) },
      },
    });
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body)).toMatchObject({
      Error: { Code: 'SignatureDoesNotMatch', Type: 'Sender' },
      RequestId: expect.any(String),
    });
  });

  describe('faults', () => {
    const agentCall = async () =>
      sendRaw(sts.port, { method: 'POST', path: '/', ...(await signLikeTheAgent(alice)) });

    it('answers with an injected 503 once, then normally', async () => {
      sts.setFault({ kind: 'status', status: 503, times: 1 });

      const first = await agentCall();
      const second = await agentCall();

      expect(first.status).toBe(503);
      expect(errorCodeIn(first.body)).toBe('ServiceUnavailable');
      expect(second.status).toBe(200);
    });

    it('answers with a redirect', async () => {
      sts.setFault({ kind: 'redirect', location: 'http://169.254.169.254/latest/meta-data/' });

      const answer = await agentCall();

      expect(answer.status).toBe(307);
      expect(answer.headers['location']).toBe('http://169.254.169.254/latest/meta-data/');
    });

    it('answers with an oversized body of exactly the requested size', async () => {
      sts.setFault({ kind: 'oversized', bytes: 200_000 });

      const answer = await agentCall();

      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toBe('text/xml');
      expect(Buffer.byteLength(answer.body)).toBe(200_000);
      expect(answer.body).toContain('<GetCallerIdentityResult>');
    });

    it('answers a correct body under the wrong content type', async () => {
      sts.setFault({ kind: 'wrong-content-type' });

      const answer = await agentCall();

      expect(answer.status).toBe(200);
      expect(answer.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(answer.body).toContain('<GetCallerIdentityResponse');
    });

    it('answers with an arbitrary raw body, e.g. two identities', async () => {
      const body =
        '<GetCallerIdentityResponse><GetCallerIdentityResult><Arn>a</Arn><Arn>b</Arn></GetCallerIdentityResult></GetCallerIdentityResponse>';
      sts.setFault({ kind: 'raw', status: 200, contentType: 'text/xml', body });

      const answer = await agentCall();

      expect(answer).toMatchObject({ status: 200, body });
    });

    it('holds the answer for a delay, which a client with a short timeout sees as a timeout', async () => {
      sts.setFault({ kind: 'delay', ms: 5_000 });
      const client = stsClient(alice, { maxAttempts: 1, requestHandler: { socketTimeout: 200 } });

      await expect(client.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({
        name: 'TimeoutError',
      });
    });

    it('lets the SDK retry an injected 500 and succeed', async () => {
      sts.setFault({ kind: 'status', status: 500, times: 2 });

      const answer = await stsClient(alice).send(new GetCallerIdentityCommand({}));

      expect(answer.Arn).toBe(alice.arn);
      expect(sts.requests.map((r) => r.response?.status)).toEqual([500, 500, 200]);
    });
  });
});

describe('Secrets Manager emulator', () => {
  let sm: SecretsManagerEmulator;
  let client: SecretsManagerClient;

  beforeEach(async () => {
    sm = await startSecretsManagerEmulator();
    client = new SecretsManagerClient({
      region: sm.region,
      endpoint: sm.url,
      credentials: { ...AWS_TEST_CREDENTIALS },
    });
  });

  afterEach(async () => {
    client.destroy();
    await sm.stop();
  });

  const token = (n: number) => `bot-alpha-output-identity-serial-${String(n).padStart(8, '0')}`;

  it('creates a secret with an ARN carrying a six-character suffix and the token as its first version', async () => {
    const created = await client.send(
      new CreateSecretCommand({
        Name: 'mid/bots/alpha/identity',
        SecretString: '{"v":1}',
        ClientRequestToken: token(1),
        Description: 'identity output',
        Tags: [{ Key: 'bot', Value: 'alpha' }],
      }),
    );

    expect(created.ARN).toMatch(
      /^arn:aws:secretsmanager:us-east-1:123456789012:secret:mid\/bots\/alpha\/identity-[A-Za-z0-9]{6}$/,
    );
    expect(created).toMatchObject({ Name: 'mid/bots/alpha/identity', VersionId: token(1) });
    const byArn = await client.send(new GetSecretValueCommand({ SecretId: created.ARN }));
    expect(byArn).toMatchObject({ SecretString: '{"v":1}', VersionStages: ['AWSCURRENT'] });
    expect(byArn.CreatedDate).toBeInstanceOf(Date);
  });

  it('moves AWSCURRENT to each new value and AWSPREVIOUS to the one before, like AWS', async () => {
    const name = 'mid/bots/alpha/identity';
    await client.send(
      new CreateSecretCommand({ Name: name, SecretString: 'v1', ClientRequestToken: token(1) }),
    );
    await client.send(
      new PutSecretValueCommand({ SecretId: name, SecretString: 'v2', ClientRequestToken: token(2) }),
    );
    const third = await client.send(
      new PutSecretValueCommand({ SecretId: name, SecretString: 'v3', ClientRequestToken: token(3) }),
    );

    expect(third).toMatchObject({ VersionId: token(3), VersionStages: ['AWSCURRENT'] });
    await expect(client.send(new GetSecretValueCommand({ SecretId: name }))).resolves.toMatchObject({
      SecretString: 'v3',
      VersionId: token(3),
    });
    await expect(
      client.send(new GetSecretValueCommand({ SecretId: name, VersionStage: 'AWSPREVIOUS' })),
    ).resolves.toMatchObject({ SecretString: 'v2', VersionStages: ['AWSPREVIOUS'] });
    await expect(
      client.send(new GetSecretValueCommand({ SecretId: name, VersionId: token(1) })),
    ).resolves.toMatchObject({ SecretString: 'v1', VersionStages: [] });
    const described = await client.send(new DescribeSecretCommand({ SecretId: name }));
    expect(described.VersionIdsToStages).toEqual({ [token(2)]: ['AWSPREVIOUS'], [token(3)]: ['AWSCURRENT'] });
    expect(described.LastChangedDate).toBeInstanceOf(Date);
  });

  it('lists versions in pages linked by NextToken, unlabelled ones only with IncludeDeprecated', async () => {
    const name = 'mid/bots/alpha/identity';
    await client.send(
      new CreateSecretCommand({ Name: name, SecretString: 'v1', ClientRequestToken: token(1) }),
    );
    for (const n of [2, 3, 4]) {
      await client.send(
        new PutSecretValueCommand({ SecretId: name, SecretString: `v${n}`, ClientRequestToken: token(n) }),
      );
    }
    const list = (input: { MaxResults?: number; NextToken?: string; IncludeDeprecated?: boolean }) =>
      client.send(new ListSecretVersionIdsCommand({ SecretId: name, ...input }));

    const first = await list({ MaxResults: 3, IncludeDeprecated: true });
    expect(first.Versions?.map((version) => version.VersionId)).toEqual([token(1), token(2), token(3)]);
    const second = await list({ MaxResults: 3, IncludeDeprecated: true, NextToken: first.NextToken! });
    expect(second.Versions?.map((version) => version.VersionId)).toEqual([token(4)]);
    expect(second.NextToken).toBeUndefined();
    const staged = await list({});
    expect(staged.Versions?.map((version) => version.VersionStages)).toEqual([
      ['AWSPREVIOUS'],
      ['AWSCURRENT'],
    ]);
    await expect(list({ MaxResults: 101 })).rejects.toMatchObject({ name: 'InvalidParameterException' });
    await expect(list({ NextToken: 'made-up' })).rejects.toMatchObject({ name: 'InvalidNextTokenException' });
  });

  it('treats a retry with the same ClientRequestToken and value as a no-op', async () => {
    const name = 'mid/bots/alpha/identity';
    await client.send(
      new CreateSecretCommand({ Name: name, SecretString: 'v1', ClientRequestToken: token(1) }),
    );
    const put = () =>
      client.send(
        new PutSecretValueCommand({ SecretId: name, SecretString: 'v2', ClientRequestToken: token(2) }),
      );

    const first = await put();
    const retry = await put();

    expect(retry.VersionId).toBe(first.VersionId);
    expect(sm.secrets.get(name)?.versions.map((v) => [v.versionId, v.stages])).toEqual([
      [token(1), ['AWSPREVIOUS']],
      [token(2), ['AWSCURRENT']],
    ]);
  });

  it('refuses the same ClientRequestToken with a different value as ResourceExistsException', async () => {
    const name = 'mid/bots/alpha/identity';
    await client.send(
      new CreateSecretCommand({ Name: name, SecretString: 'v1', ClientRequestToken: token(1) }),
    );

    const error = await client
      .send(
        new PutSecretValueCommand({ SecretId: name, SecretString: 'other', ClientRequestToken: token(1) }),
      )
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ResourceExistsException);
    expect(sm.secrets.get(name)?.versions).toHaveLength(1);
  });

  it('refuses a value over 64 KiB and keeps the last good version', async () => {
    const name = 'mid/bots/alpha/identity';
    await client.send(
      new CreateSecretCommand({ Name: name, SecretString: 'good', ClientRequestToken: token(1) }),
    );

    const error = await client
      .send(new PutSecretValueCommand({ SecretId: name, SecretString: 'x'.repeat(70 * 1024) }))
      .catch((e: unknown) => e);
    const atLimit = await client.send(
      new PutSecretValueCommand({
        SecretId: name,
        SecretString: 'y'.repeat(65_536),
        ClientRequestToken: token(2),
      }),
    );

    expect(error).toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
    expect((error as Error).message).toContain('less than or equal to 65536');
    expect(atLimit.VersionId).toBe(token(2));
    expect(sm.secrets.get(name)?.versions.map((v) => v.versionId)).toEqual([token(1), token(2)]);
  });

  it.each([['has space'], ['star*'], ['a'.repeat(513)]])(
    'refuses the illegal secret name %s',
    async (name) => {
      await expect(
        client.send(new CreateSecretCommand({ Name: name, SecretString: 'v' })),
      ).rejects.toMatchObject({
        name: 'ValidationException',
        message:
          'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!',
      });
      expect(sm.secrets.list()).toEqual([]);
    },
  );

  it('refuses a ClientRequestToken shorter than 32 characters', async () => {
    await expect(
      client.send(new CreateSecretCommand({ Name: 'n', SecretString: 'v', ClientRequestToken: 'short' })),
    ).rejects.toMatchObject({ name: 'ValidationException' });
  });

  it('answers a missing secret with ResourceNotFoundException', async () => {
    const error = await client
      .send(new GetSecretValueCommand({ SecretId: 'mid/missing' }))
      .catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ResourceNotFoundException);
    expect(error).toMatchObject({
      message: "Secrets Manager can't find the specified secret.",
      $metadata: { httpStatusCode: 400 },
    });
  });

  it('refuses an existing name as ResourceExistsException', async () => {
    await client.send(new CreateSecretCommand({ Name: 'dup', SecretString: 'a' }));

    await expect(
      client.send(new CreateSecretCommand({ Name: 'dup', SecretString: 'b' })),
    ).rejects.toBeInstanceOf(ResourceExistsException);
  });

  it('forgets a secret deleted without recovery', async () => {
    await client.send(new CreateSecretCommand({ Name: 'gone', SecretString: 'a' }));

    await client.send(new DeleteSecretCommand({ SecretId: 'gone', ForceDeleteWithoutRecovery: true }));

    await expect(client.send(new GetSecretValueCommand({ SecretId: 'gone' }))).rejects.toBeInstanceOf(
      ResourceNotFoundException,
    );
  });

  it('refuses to read a secret scheduled for deletion', async () => {
    await client.send(new CreateSecretCommand({ Name: 'scheduled', SecretString: 'a' }));

    const deleted = await client.send(
      new DeleteSecretCommand({ SecretId: 'scheduled', RecoveryWindowInDays: 7 }),
    );

    expect(deleted.DeletionDate).toBeInstanceOf(Date);
    await expect(client.send(new GetSecretValueCommand({ SecretId: 'scheduled' }))).rejects.toMatchObject({
      name: 'InvalidRequestException',
    });
  });

  it('lets the SDK retry an injected ThrottlingException and succeed', async () => {
    await client.send(new CreateSecretCommand({ Name: 'throttled', SecretString: 'a' }));
    sm.setFault('GetSecretValue', { kind: 'throttle', times: 1 });

    const answer = await client.send(new GetSecretValueCommand({ SecretId: 'throttled' }));

    expect(answer.SecretString).toBe('a');
    expect(answer.$metadata.attempts).toBe(2);
    expect(sm.calls).toEqual(['CreateSecret', 'GetSecretValue', 'GetSecretValue']);
  });

  it('lets the SDK retry two InternalServiceErrors and succeed on the third attempt', async () => {
    await client.send(new CreateSecretCommand({ Name: 'flaky', SecretString: 'a' }));
    sm.setFault('PutSecretValue', { kind: 'internal-error', times: 2 });

    const answer = await client.send(
      new PutSecretValueCommand({ SecretId: 'flaky', SecretString: 'b', ClientRequestToken: token(2) }),
    );

    expect(answer.$metadata.attempts).toBe(3);
    expect(sm.calls.filter((op) => op === 'PutSecretValue')).toHaveLength(3);
    expect(sm.secrets.get('flaky')?.versions).toHaveLength(2);
  });

  it('surfaces an InternalServiceError that outlasts the retries', async () => {
    sm.setFault('*', { kind: 'internal-error' });

    await expect(client.send(new GetSecretValueCommand({ SecretId: 'any' }))).rejects.toMatchObject({
      name: 'InternalServiceError',
      $metadata: { httpStatusCode: 500, attempts: 3 },
    });
  });

  it('does not retry AccessDeniedException', async () => {
    sm.setFault('GetSecretValue', { kind: 'access-denied' });

    await expect(client.send(new GetSecretValueCommand({ SecretId: 'any' }))).rejects.toMatchObject({
      name: 'AccessDeniedException',
      $metadata: { httpStatusCode: 400 },
    });
    expect(sm.calls).toEqual(['GetSecretValue']);
  });

  it('creates no duplicate version when the SDK retries a write whose answer timed out', async () => {
    const name = 'mid/bots/alpha/identity';
    await client.send(
      new CreateSecretCommand({ Name: name, SecretString: 'v1', ClientRequestToken: token(1) }),
    );
    sm.setFault('PutSecretValue', { kind: 'delay', ms: 2_000, times: 1 });
    const impatient = new SecretsManagerClient({
      region: sm.region,
      endpoint: sm.url,
      credentials: { ...AWS_TEST_CREDENTIALS },
      requestHandler: { socketTimeout: 300 },
    });

    try {
      // No explicit token: the SDK fills one in and reuses it for the retry.
      const answer = await impatient.send(new PutSecretValueCommand({ SecretId: name, SecretString: 'v2' }));

      expect(answer.$metadata.attempts).toBe(2);
      expect(sm.calls.filter((op) => op === 'PutSecretValue')).toHaveLength(2);
      expect(sm.secrets.get(name)?.versions.map((v) => v.versionId)).toEqual([token(1), answer.VersionId]);
    } finally {
      impatient.destroy();
    }
  });

  it('refuses requests signed with keys it does not know, and with a wrong secret', async () => {
    const stranger = new SecretsManagerClient({
      region: sm.region,
      endpoint: sm.url,
      credentials: { accessKeyId: 'AKIASTRANGER00000001', secretAccessKey: 'x' },
    });
    const wrongSecret = new SecretsManagerClient({
      region: sm.region,
      endpoint: sm.url,
      credentials: { ...AWS_TEST_CREDENTIALS, secretAccessKey: 'wrong' },
    });

    try {
      await expect(stranger.send(new GetSecretValueCommand({ SecretId: 'a' }))).rejects.toMatchObject({
        name: 'UnrecognizedClientException',
      });
      await expect(wrongSecret.send(new GetSecretValueCommand({ SecretId: 'a' }))).rejects.toMatchObject({
        name: 'InvalidSignatureException',
      });
    } finally {
      stranger.destroy();
      wrongSecret.destroy();
    }
  });

  it('answers in the JSON 1.1 shape the SDK reads', async () => {
    const answer = await sendRaw(sm.port, {
      method: 'POST',
      path: '/',
      headers: {
        'content-type': 'application/x-amz-json-1.1',
        'x-amz-target': 'secretsmanager.GetSecretValue',
      },
      body: '{"SecretId":"x"}',
    });

    expect(answer.status).toBe(400);
    expect(answer.headers['content-type']).toBe('application/x-amz-json-1.1');
    expect(JSON.parse(answer.body)).toEqual({
      __type: 'MissingAuthenticationTokenException',
      message: 'Request is missing Authentication Token',
    });
  });
});

describe('dynalite', () => {
  let dynamo: RunningDynalite;
  let client: DynamoDBClient;

  beforeEach(async () => {
    dynamo = await startDynalite();
    client = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: dynamo.endpoint,
      credentials: { ...AWS_TEST_CREDENTIALS },
    });
  });

  afterEach(async () => {
    client.destroy();
    await dynamo.stop();
  });

  it('refuses a second conditional put of the same key with ConditionalCheckFailedException', async () => {
    await client.send(
      new CreateTableCommand({
        TableName: 'tokens',
        AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    const put = () =>
      client.send(
        new PutItemCommand({
          TableName: 'tokens',
          Item: { pk: { S: 'token#abc' } },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );

    await put();

    await expect(put()).rejects.toBeInstanceOf(ConditionalCheckFailedException);
  });
});

function bumpSecond(amzDate: string): string {
  const time = Date.UTC(
    Number(amzDate.slice(0, 4)),
    Number(amzDate.slice(4, 6)) - 1,
    Number(amzDate.slice(6, 8)),
    Number(amzDate.slice(9, 11)),
    Number(amzDate.slice(11, 13)),
    Number(amzDate.slice(13, 15)) + 1,
  );
  return new Date(time)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}
