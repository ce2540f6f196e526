import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type LocalAuthServer, startLocalAuthServer } from '../../../lib/auth/local/local-auth-server.js';
import { localServerFiles } from '../../../lib/auth/local/local-server-files.js';
import { BotApiClient } from '../../../lib/bot/auth-client/bot-api-client.js';
import { IamJoinProof, iamJoinProof } from '../../../lib/bot/iam/iam-join-proof.js';
import { systemClock } from '../../../lib/core/clock.js';
import { ConfigError } from '../../../lib/core/errors.js';
import { silentLogger } from '../../../lib/core/logger.js';
import { newPublicKeyPem, ROLES } from '../../auth/auth-fixture.js';
import { type StsEmulator, type StsIdentity, startStsEmulator } from '../../support/sts-emulator.js';

const CHALLENGE = Buffer.alloc(32, 3).toString('base64url');
const session: StsIdentity = {
  accessKeyId: 'ASIALAMBDASESSION001',
  secretAccessKey: 'lambda-session-secret-key-00000000000000',
  sessionToken: 'lambda-session-token',
  arn: 'arn:aws:sts::123456789012:assumed-role/ci-role/midbot-lambda',
  account: '123456789012',
  userId: 'AROALAMBDAROLE000001:midbot-lambda',
};
const credentials = {
  accessKeyId: session.accessKeyId,
  secretAccessKey: session.secretAccessKey,
  sessionToken: session.sessionToken as string,
};

describe('the iam join proof of the agent', () => {
  it('asks for a challenge and signs it with the cluster name', async () => {
    let asked = 0;
    const client = {
      challenge: async () => {
        asked += 1;
        return { challenge: CHALLENGE, expires_at: '2026-11-21T12:02:00.000Z' };
      },
    };
    const proof = await iamJoinProof(client, {
      token: 'ci-token',
      region: 'us-east-1',
      credentials,
      clusterName: 'c.example',
    });
    expect(asked).toBe(1);
    expect(proof).toMatchObject({ join_method: 'iam', token: 'ci-token', iam: { method: 'POST' } });
    expect(proof.iam.headers).toEqual(
      expect.arrayContaining([
        ['x-mid-challenge', CHALLENGE],
        ['x-mid-cluster-name', 'c.example'],
      ]),
    );
  });

  it('refuses to start without a region, before any join', () => {
    expect(() => new IamJoinProof({ token: 'ci-token', region: undefined })).toThrow(ConfigError);
  });

  it('has a fingerprint that tells onboardings apart and does not spell out the token', () => {
    const a = new IamJoinProof({ token: 'ci-token', region: 'us-east-1', credentials });
    const b = new IamJoinProof({ token: 'ci-token', region: 'eu-west-1', credentials });
    expect(a.method).toBe('iam');
    expect(a.fingerprint).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(a.fingerprint).not.toBe(b.fingerprint);
    expect(a.fingerprint).toBe(new IamJoinProof({ token: 'ci-token', region: 'us-east-1' }).fingerprint);
  });
});

describe('an iam join against a running auth service', () => {
  let sts: StsEmulator | undefined;
  let server: LocalAuthServer | undefined;
  let dir: string | undefined;
  afterEach(async () => {
    await server?.close();
    await sts?.stop();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  it('joins over HTTPS with the challenge route, the signed request and the STS emulator', async () => {
    sts = await startStsEmulator({ identities: [session] });
    dir = mkdtempSync(join(tmpdir(), 'mid-iam-e2e-'));
    server = await startLocalAuthServer({
      dataDir: dir,
      port: 0,
      clusterName: 'iam.example',
      logger: silentLogger,
      iamJoin: { stsEndpointOverrideForTests: sts.url },
    });
    await server.service.admin.putResources(ROLES, false, 'test');
    await server.service.admin.putResources(
      [
        { kind: 'bot', version: 'v1', metadata: { name: 'lambda-bot' }, spec: { roles: ['ops'] } },
        {
          kind: 'token',
          version: 'v2',
          metadata: { name: 'lambda-token' },
          spec: {
            roles: ['Bot'],
            join_method: 'iam',
            bot_name: 'lambda-bot',
            allow: [
              { aws_account: '123456789012', aws_arn: 'arn:aws:sts::123456789012:assumed-role/ci-role/*' },
            ],
          },
        },
      ],
      false,
      'test',
    );
    const client = new BotApiClient(
      server.url,
      readFileSync(localServerFiles(dir).hostCa, 'utf8'),
      systemClock,
    );
    try {
      const ping = await client.ping();
      const provider = new IamJoinProof({ token: 'lambda-token', region: 'us-east-1', credentials });
      const first = await client.join({
        ...(await provider.prove(client, { clusterName: ping.cluster_name })),
        public_key: newPublicKeyPem(),
      });
      const second = await client.join({
        ...(await provider.prove(client, { clusterName: ping.cluster_name })),
        public_key: newPublicKeyPem(),
        previous_certificate: first.tls_cert,
      });
      expect(first).toMatchObject({ bot_name: 'lambda-bot', renewable: false });
      expect(second.instance_id).toBe(first.instance_id);
      expect(sts.requests.map((request) => request.response?.status)).toEqual([200, 200]);
    } finally {
      client.close();
    }
  });
});
