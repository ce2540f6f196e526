import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { signGetCallerIdentity } from '../../../lib/bot/iam/sign-get-caller-identity.js';
import { stsEndpointFor } from '../../../lib/bot/iam/sts-endpoint.js';
import { ManualClock } from '../../../lib/core/clock.js';
import { ConfigError, UpstreamError } from '../../../lib/core/errors.js';
import { AWS_TEST_ACCOUNT_ID, AWS_TEST_CREDENTIALS } from '../../support/aws-test-credentials.js';
import { type StsEmulator, type StsIdentity, startStsEmulator } from '../../support/sts-emulator.js';

const NOW = Date.parse('2026-11-21T12:00:00Z');
const CHALLENGE = Buffer.alloc(32, 9).toString('base64url');

const roleSession: StsIdentity = {
  accessKeyId: 'ASIACIROLESESSION001',
  secretAccessKey: 'ci-role-session-secret-key-0000000000000',
  sessionToken: 'ci-role-session-token-value',
  arn: `arn:aws:sts::${AWS_TEST_ACCOUNT_ID}:assumed-role/ci-role/session-1`,
  account: AWS_TEST_ACCOUNT_ID,
  userId: 'AROACIROLE0000000001:session-1',
};
const longTerm: StsIdentity = {
  ...AWS_TEST_CREDENTIALS,
  arn: `arn:aws:iam::${AWS_TEST_ACCOUNT_ID}:user/ci`,
  account: AWS_TEST_ACCOUNT_ID,
  userId: 'AIDAEMULATORTEST0001',
};

/** Delivers the signed parts to the emulator as STS would receive them (socket to 127.0.0.1, real host header). */
function deliver(
  port: number,
  signed: { method: string; url: string; headers: [string, string][]; body: string },
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port,
        method: signed.method,
        path: new URL(signed.url).pathname,
        headers: Object.fromEntries(signed.headers),
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('error', reject);
    req.end(signed.body);
  });
}

describe('signing GetCallerIdentity for an iam join', () => {
  let sts: StsEmulator;
  beforeAll(async () => {
    sts = await startStsEmulator({ identities: [roleSession, longTerm], clock: () => NOW });
  });
  afterAll(async () => {
    await sts.stop();
  });
  beforeEach(() => {
    sts.requests.length = 0;
  });

  const sign = (overrides: Partial<Parameters<typeof signGetCallerIdentity>[0]> = {}) =>
    signGetCallerIdentity({
      region: 'eu-west-1',
      challenge: CHALLENGE,
      clusterName: 'alpha.example.com',
      credentials: {
        accessKeyId: roleSession.accessKeyId,
        secretAccessKey: roleSession.secretAccessKey,
        sessionToken: roleSession.sessionToken as string,
      },
      clock: new ManualClock(NOW),
      ...overrides,
    });

  it('produces a request STS verifies, with the challenge and the cluster name signed', async () => {
    const signed = await sign();

    const answer = await deliver(sts.port, signed);

    expect(answer.status).toBe(200);
    expect(answer.body).toContain(`<Arn>${roleSession.arn}</Arn>`);
    const received = sts.requests[0];
    expect(received?.headers).toMatchObject({
      host: 'sts.eu-west-1.amazonaws.com',
      'x-mid-challenge': CHALLENGE,
      'x-mid-cluster-name': 'alpha.example.com',
      'x-amz-security-token': roleSession.sessionToken,
      'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
    });
    const signedHeaders = /SignedHeaders=([^,]+)/
      .exec(received?.headers['authorization'] ?? '')?.[1]
      ?.split(';');
    expect(signedHeaders).toEqual(
      expect.arrayContaining([
        'host',
        'x-amz-date',
        'x-amz-security-token',
        'x-mid-challenge',
        'x-mid-cluster-name',
      ]),
    );
    expect(received?.headers['authorization']).toContain(`/20261121/eu-west-1/sts/aws4_request`);
  });

  it('signs POST / with exactly the GetCallerIdentity body for the regional endpoint', async () => {
    const signed = await sign();
    expect(signed.method).toBe('POST');
    expect(signed.url).toBe('https://sts.eu-west-1.amazonaws.com/');
    expect(signed.body).toBe('Action=GetCallerIdentity&Version=2011-06-15');
    const names = signed.headers.map(([name]) => name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.every((name) => name === name.toLowerCase())).toBe(true);
  });

  it('signs with long-term credentials too (no session token header then)', async () => {
    const signed = await sign({ credentials: { ...AWS_TEST_CREDENTIALS } });
    expect(signed.headers.some(([name]) => name === 'x-amz-security-token')).toBe(false);
    expect((await deliver(sts.port, signed)).status).toBe(200);
  });

  it('takes credentials from a provider, as the default chain gives them', async () => {
    let calls = 0;
    const provider = async () => {
      calls += 1;
      return { ...AWS_TEST_CREDENTIALS };
    };
    expect((await deliver(sts.port, await sign({ credentials: provider }))).status).toBe(200);
    expect(calls).toBe(1);
  });

  it('never puts the secret access key into the signed parts', async () => {
    const signed = await sign();
    expect(JSON.stringify(signed)).not.toContain(roleSession.secretAccessKey);
  });

  it('a changed challenge after signing no longer verifies at STS', async () => {
    const signed = await sign();
    const tampered = {
      ...signed,
      headers: signed.headers.map(([name, value]): [string, string] =>
        name === 'x-mid-challenge' ? [name, Buffer.alloc(32, 1).toString('base64url')] : [name, value],
      ),
    };
    const answer = await deliver(sts.port, tampered);
    expect(answer.status).toBe(403);
    expect(answer.body).toContain('SignatureDoesNotMatch');
  });

  it.each([undefined, ''])(
    'refuses to sign without a region (%j) with a ConfigError that says what to set',
    async (region) => {
      const error = await sign({ region }).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(ConfigError);
      expect(error).toMatchObject({
        code: 'aws_region_missing',
        message: expect.stringContaining('AWS_REGION'),
      });
    },
  );

  it('refuses a challenge that is not base64url text (it goes into a header)', async () => {
    await expect(sign({ challenge: 'abc\r\nx-evil: 1' })).rejects.toBeInstanceOf(UpstreamError);
  });

  it('explains missing credentials', async () => {
    const failing = async () => {
      throw new Error('Could not load credentials from any providers');
    };
    await expect(sign({ credentials: failing })).rejects.toMatchObject({
      code: 'aws_credentials_unavailable',
      message: expect.stringContaining('Could not load credentials'),
    });
  });
});

describe('the STS endpoint the agent signs for', () => {
  it.each([
    ['us-east-1', false, 'sts.us-east-1.amazonaws.com'],
    ['eu-central-2', false, 'sts.eu-central-2.amazonaws.com'],
    ['cn-north-1', false, 'sts.cn-north-1.amazonaws.com.cn'],
    ['cn-northwest-1', false, 'sts.cn-northwest-1.amazonaws.com.cn'],
    ['us-gov-west-1', false, 'sts.us-gov-west-1.amazonaws.com'],
    ['us-gov-west-1', true, 'sts.us-gov-west-1.amazonaws.com'],
    ['us-east-2', true, 'sts-fips.us-east-2.amazonaws.com'],
  ])('%s (FIPS %s) → %s, signed for the same region', (region, fips, host) => {
    expect(stsEndpointFor(region, { fips })).toEqual({
      host,
      url: `https://${host}/`,
      signingRegion: region,
    });
  });

  it.each([
    ['a malformed region', 'EU-WEST-1', 'aws_region_invalid'],
    ['a region with a host in it', 'us-east-1.evil.com', 'aws_region_invalid'],
    ['FIPS where STS has none', 'eu-west-1', 'fips_unavailable'],
    ['FIPS in China', 'cn-north-1', 'fips_unavailable'],
  ])('refuses %s', (_what, region, code) => {
    expect(() => stsEndpointFor(region, { fips: code === 'fips_unavailable' })).toThrow(
      expect.objectContaining({ code }),
    );
  });
});
