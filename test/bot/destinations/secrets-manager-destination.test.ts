import {
  CreateSecretCommand,
  DeleteSecretCommand,
  GetSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ArtifactFile, OutputMetadata } from '../../../lib/bot/destinations/destination.js';
import {
  clientRequestTokenFor,
  SecretsManagerDestination,
  type SecretsManagerDestinationOptions,
  type SecretsManagerRetry,
} from '../../../lib/bot/destinations/secrets-manager-destination.js';
import { DestinationError } from '../../../lib/core/errors.js';
import { AWS_TEST_CREDENTIALS } from '../../support/aws-test-credentials.js';
import {
  type SecretsManagerEmulator,
  startSecretsManagerEmulator,
} from '../../support/secrets-manager-emulator.js';

const SECRET = 'midbot/ci/identity';
const KEY_MARKER = 'PRIVATE-KEY-MATERIAL-THAT-MUST-NEVER-SHOW';

let sm: SecretsManagerEmulator;
let client: SecretsManagerClient;
let delays: number[];
let retries: SecretsManagerRetry[];

beforeEach(async () => {
  sm = await startSecretsManagerEmulator();
  // maxAttempts: 1 as documented: the destination does the retrying.
  client = new SecretsManagerClient({
    region: sm.region,
    endpoint: sm.url,
    credentials: { ...AWS_TEST_CREDENTIALS },
    maxAttempts: 1,
  });
  delays = [];
  retries = [];
});

afterEach(async () => {
  client.destroy();
  await sm.stop();
});

function destination(options: Partial<SecretsManagerDestinationOptions> = {}): SecretsManagerDestination {
  return new SecretsManagerDestination({
    client,
    secretId: SECRET,
    sleep: async (ms) => {
      delays.push(ms);
    },
    random: () => 0.999,
    onRetry: (retry) => retries.push(retry),
    ...options,
  });
}

const files = (version: string): ArtifactFile[] => [
  { name: 'identity', data: `identity file ${version}\n${KEY_MARKER}\n`, secret: true },
  { name: 'key', data: `-----BEGIN PRIVATE KEY-----\n${KEY_MARKER} ${version}\n`, secret: true },
  { name: 'key.pub', data: `ssh-ed25519 AAAA${version}\n`, secret: false },
  {
    name: 'key-cert.pub',
    data: Buffer.from(`ssh-ed25519-cert-v01@openssh.com AAAA${version}\n`),
    secret: false,
  },
  { name: 'tlscert', data: `-----BEGIN CERTIFICATE-----\n${version}\n`, secret: false },
  { name: 'tlscacerts', data: '-----BEGIN CERTIFICATE-----\nca\n', secret: false },
  { name: 'sshcacerts', data: 'cert-authority ssh-ed25519 AAAAca\n', secret: false },
  { name: 'known_hosts', data: '@cert-authority *.example.test ssh-ed25519 AAAAhost\n', secret: false },
  {
    name: 'ssh_config',
    data: 'Host *.example.test\n    IdentityFile "/opt/machine-id/key"\n',
    secret: false,
  },
];

const metadata = (serial: string): OutputMetadata => ({
  bot: 'ci',
  output: 'identity',
  serial,
  issuedAt: '2030-01-01T00:00:00.000Z',
  expiresAt: '2030-01-01T01:00:00.000Z',
});

async function createEmptySecret(name = SECRET): Promise<string> {
  const created = await client.send(new CreateSecretCommand({ Name: name }));
  return created.ARN as string;
}

async function current(stage = 'AWSCURRENT'): Promise<Record<string, string>> {
  const answer = await client.send(new GetSecretValueCommand({ SecretId: SECRET, VersionStage: stage }));
  return JSON.parse(answer.SecretString as string) as Record<string, string>;
}

function versions(name = SECRET) {
  return sm.secrets.get(name)?.versions ?? [];
}

async function destinationError(promise: Promise<unknown>): Promise<DestinationError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(DestinationError);
    expect((error as Error).message).not.toContain(KEY_MARKER);
    return error as DestinationError;
  }
  throw new Error('expected a DestinationError');
}

describe('SecretsManagerDestination', () => {
  it('writes one flat JSON object with every file as text and the metadata', async () => {
    await createEmptySecret();
    const dest = destination();

    await dest.write(files('v1'), metadata('serial-1'));

    expect(sm.calls).toEqual(['CreateSecret', 'PutSecretValue']);
    const value = await current();
    expect(value).toEqual({
      identity: `identity file v1\n${KEY_MARKER}\n`,
      key: `-----BEGIN PRIVATE KEY-----\n${KEY_MARKER} v1\n`,
      'key.pub': 'ssh-ed25519 AAAAv1\n',
      'key-cert.pub': 'ssh-ed25519-cert-v01@openssh.com AAAAv1\n',
      tlscert: '-----BEGIN CERTIFICATE-----\nv1\n',
      tlscacerts: '-----BEGIN CERTIFICATE-----\nca\n',
      sshcacerts: 'cert-authority ssh-ed25519 AAAAca\n',
      known_hosts: '@cert-authority *.example.test ssh-ed25519 AAAAhost\n',
      ssh_config: 'Host *.example.test\n    IdentityFile "/opt/machine-id/key"\n',
      expires_at: '2030-01-01T01:00:00.000Z',
      issued_at: '2030-01-01T00:00:00.000Z',
      bot: 'ci',
      output: 'identity',
      serial: 'serial-1',
    });
    expect(versions().at(-1)?.versionId).toBe(clientRequestTokenFor(SECRET, 'serial-1'));
    expect((await dest.read('tlscert'))?.toString()).toBe('-----BEGIN CERTIFICATE-----\nv1\n');
    expect(await dest.read('kubeconfig.yaml')).toBeUndefined();
    expect(dest.describe()).toBe('aws_secrets_manager midbot/ci/identity');
  });

  it('makes a new serial AWSCURRENT and keeps the previous value as AWSPREVIOUS', async () => {
    await createEmptySecret();
    const dest = destination();

    await dest.write(files('v1'), metadata('serial-1'));
    await dest.write(files('v2'), metadata('serial-2'));

    expect((await current()).serial).toBe('serial-2');
    expect((await current('AWSPREVIOUS')).serial).toBe('serial-1');
    expect(versions().map((v) => v.stages)).toEqual([['AWSPREVIOUS'], ['AWSCURRENT']]);
  });

  it('adds no version when the same issuance is written again', async () => {
    await createEmptySecret();
    const dest = destination();

    await dest.write(files('v1'), metadata('serial-1'));
    await dest.write(files('v1'), metadata('serial-1'));

    expect(sm.calls.filter((call) => call === 'PutSecretValue')).toHaveLength(2);
    expect(versions()).toHaveLength(1);
    expect(versions()[0]?.stages).toEqual(['AWSCURRENT']);
  });

  it('retries throttling with growing, jittered and bounded delays, then succeeds', async () => {
    await createEmptySecret();
    sm.setFault('PutSecretValue', { kind: 'throttle', times: 2 });

    await destination().write(files('v1'), metadata('serial-1'));

    expect((await current()).serial).toBe('serial-1');
    expect(sm.calls.filter((call) => call === 'PutSecretValue')).toHaveLength(3);
    // random() = 0.999 of a ceiling that doubles from 200 ms.
    expect(delays).toEqual([199, 399]);
    expect(retries.map((r) => [r.operation, r.attempt])).toEqual([
      ['PutSecretValue', 1],
      ['PutSecretValue', 2],
    ]);
    expect(retries[0]?.error).toMatch(/^ThrottlingException \(HTTP 400\)/);
  });

  it('draws each delay from the jitter source, never above the ceiling', async () => {
    await createEmptySecret();
    sm.setFault('PutSecretValue', { kind: 'throttle', times: 3 });
    const draws = [0.5, 0, 0.75];

    await destination({ random: () => draws.shift() ?? 0 }).write(files('v1'), metadata('serial-1'));

    expect(delays).toEqual([100, 0, 600]);
  });

  it('retries a 5xx, then succeeds', async () => {
    await createEmptySecret();
    sm.setFault('PutSecretValue', { kind: 'internal-error', status: 503, times: 1 });

    await destination().write(files('v1'), metadata('serial-1'));

    expect((await current()).serial).toBe('serial-1');
    expect(retries[0]?.error).toMatch(/^InternalServiceError \(HTTP 503\)/);
  });

  it('gives up after maxAttempts with the previous value still AWSCURRENT, delays capped', async () => {
    await createEmptySecret();
    const dest = destination({ maxAttempts: 8 });
    await dest.write(files('v1'), metadata('serial-1'));
    sm.setFault('PutSecretValue', { kind: 'throttle' });

    const error = await destinationError(dest.write(files('v2'), metadata('serial-2')));

    expect(error.code).toBe('secrets_manager_unavailable');
    expect(error.message).toMatch(/PutSecretValue failed 8 time\(s\), last with ThrottlingException/);
    expect(error.message).toMatch(/previous value stays AWSCURRENT/);
    expect(sm.calls.filter((call) => call === 'PutSecretValue')).toHaveLength(1 + 8);
    expect(delays).toEqual([199, 399, 799, 1598, 3196, 4995, 4995]);
    sm.setFault('PutSecretValue', undefined);
    expect((await current()).serial).toBe('serial-1');
    expect(versions()).toHaveLength(1);
  });

  it('refuses a value over 64 KiB before calling Secrets Manager', async () => {
    const big = [...files('v1'), { name: 'tlscacerts2', data: 'A'.repeat(65_000), secret: false }];

    const error = await destinationError(destination().write(big, metadata('serial-1')));

    expect(error.code).toBe('secret_too_large');
    expect(error.message).toMatch(/output identity of bot ci is 6\d,\d{3} bytes as JSON, over .*65,536-byte/);
    expect(error.message).toMatch(/tlscacerts2 65,000 bytes/);
    expect(error.message).toMatch(/split it into several outputs .* or trust fewer CAs/);
    expect(sm.calls).toEqual([]);
  });

  it('counts the limit in UTF-8 bytes, not characters', async () => {
    // 30,000 two-byte characters: 60,000 bytes of text, 30,000 characters.
    const near = [{ name: 'tlscacerts', data: 'é'.repeat(30_000), secret: false }];
    const over = [{ name: 'tlscacerts', data: 'é'.repeat(33_000), secret: false }];
    await createEmptySecret();

    await destination().write(near, metadata('serial-1'));
    const error = await destinationError(destination().write(over, metadata('serial-2')));

    expect(error.code).toBe('secret_too_large');
    expect(sm.calls).toEqual(['CreateSecret', 'PutSecretValue']);
  });

  it('refuses an illegal secret name with the rule, before any call', () => {
    for (const bad of ['midbot ci', 'midbot/ci#1', '', 'x'.repeat(513), 'arn:aws:s3:::bucket']) {
      expect(() => destination({ secretId: bad })).toThrow(
        expect.objectContaining({
          code: 'invalid_secret_id',
          message: expect.stringMatching(/1-512 of letters/),
        }),
      );
    }
    expect(sm.calls).toEqual([]);
  });

  it('maps a ValidationException from Secrets Manager to a clear, non-retried error', async () => {
    sm.setFault('PutSecretValue', {
      kind: 'error',
      status: 400,
      type: 'ValidationException',
      message: 'Invalid name. Must be a valid name containing alphanumeric characters',
    });

    const error = await destinationError(destination().write(files('v1'), metadata('serial-1')));

    expect(error.code).toBe('secret_write_rejected');
    expect(error.message).toMatch(/refused PutSecretValue: ValidationException \(HTTP 400\): Invalid name/);
    expect(sm.calls).toEqual(['PutSecretValue']);
  });

  it('creates a missing secret with the KMS key when allowed, as the first version', async () => {
    await destination({ kmsKeyId: 'alias/machine-id' }).write(files('v1'), metadata('serial-1'));

    expect(sm.calls).toEqual(['PutSecretValue', 'CreateSecret']);
    const secret = sm.secrets.get(SECRET);
    expect(secret?.kmsKeyId).toBe('alias/machine-id');
    expect(secret?.versions.map((v) => [v.versionId, v.stages])).toEqual([
      [clientRequestTokenFor(SECRET, 'serial-1'), ['AWSCURRENT']],
    ]);
    expect((await current()).serial).toBe('serial-1');
  });

  it('says to create the secret or grant CreateSecret when it is missing and may not be created', async () => {
    sm.setFault('CreateSecret', { kind: 'access-denied' });

    const error = await destinationError(destination().write(files('v1'), metadata('serial-1')));

    expect(error.code).toBe('secret_not_found');
    expect(error.message).toMatch(/midbot\/ci\/identity does not exist/);
    expect(error.message).toMatch(/grant the bot's role secretsmanager:CreateSecret/);
    expect(sm.secrets.list()).toEqual([]);
  });

  it('fails the write when creating the missing secret fails for another reason', async () => {
    sm.setFault('CreateSecret', {
      kind: 'error',
      status: 400,
      type: 'LimitExceededException',
      message: 'You have exceeded the number of secrets',
    });

    const error = await destinationError(destination().write(files('v1'), metadata('serial-1')));

    expect(error.message).toMatch(/CreateSecret: LimitExceededException/);
    expect(sm.secrets.list()).toEqual([]);
  });

  it('never tries to create a missing secret given by ARN', async () => {
    const arn = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:midbot/ci/identity-AbCdEf';

    const error = await destinationError(destination({ secretId: arn }).write(files('v1'), metadata('s1')));

    expect(error.code).toBe('secret_not_found');
    expect(sm.calls).toEqual(['PutSecretValue']);
  });

  it('writes into an existing secret given by its ARN', async () => {
    const arn = await createEmptySecret();

    await destination({ secretId: arn }).write(files('v1'), metadata('serial-1'));

    expect((await current()).serial).toBe('serial-1');
  });

  it('writes into a secret that appeared between PutSecretValue and CreateSecret', async () => {
    sm.setFault('PutSecretValue', {
      kind: 'error',
      status: 400,
      type: 'ResourceNotFoundException',
      message: "Secrets Manager can't find the specified secret.",
      times: 1,
    });
    await createEmptySecret();

    await destination().write(files('v1'), metadata('serial-1'));

    expect(sm.calls).toEqual(['CreateSecret', 'PutSecretValue', 'CreateSecret', 'PutSecretValue']);
    expect((await current()).serial).toBe('serial-1');
  });

  it('names the action and the secret when access is denied', async () => {
    await createEmptySecret();
    sm.setFault('PutSecretValue', { kind: 'access-denied' });

    const error = await destinationError(destination().write(files('v1'), metadata('serial-1')));

    expect(error.code).toBe('secret_access_denied');
    expect(error.message).toMatch(/may not secretsmanager:PutSecretValue on midbot\/ci\/identity/);
    expect(sm.calls).toEqual(['CreateSecret', 'PutSecretValue']);
  });

  it('refuses to write different files under a serial that was already written', async () => {
    await createEmptySecret();
    const dest = destination();
    await dest.write(files('v1'), metadata('serial-1'));

    const error = await destinationError(dest.write(files('v2'), metadata('serial-1')));

    expect(error.code).toBe('secret_version_conflict');
    expect(error.message).toMatch(/serial serial-1/);
    expect((await current()).key).toContain('v1');
    expect(versions()).toHaveLength(1);
  });

  it('says to restore a secret that is scheduled for deletion', async () => {
    await createEmptySecret();
    await client.send(new DeleteSecretCommand({ SecretId: SECRET, RecoveryWindowInDays: 7 }));

    const error = await destinationError(destination().write(files('v1'), metadata('serial-1')));

    expect(error.code).toBe('secret_scheduled_for_deletion');
    expect(error.message).toMatch(/restore-secret --secret-id midbot\/ci\/identity/);
  });

  it('says to set AWS_REGION when the client has no region, the previous value kept', async () => {
    const saved = { ...process.env };
    delete process.env['AWS_REGION'];
    delete process.env['AWS_DEFAULT_REGION'];
    process.env['AWS_CONFIG_FILE'] = '/nonexistent/aws-config';
    const regionless = new SecretsManagerClient({
      endpoint: sm.url,
      credentials: { ...AWS_TEST_CREDENTIALS },
      maxAttempts: 1,
    });
    try {
      const error = await destinationError(
        destination({ client: regionless }).write(files('v1'), metadata('serial-1')),
      );
      expect(error.code).toBe('secret_region_missing');
      expect(error.message).toMatch(
        /: no AWS region to find the secret in: set AWS_REGION \(or region in the profile/,
      );
      expect(delays).toEqual([]);
    } finally {
      regionless.destroy();
      for (const name of ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_CONFIG_FILE']) {
        if (saved[name] === undefined) delete process.env[name];
        else process.env[name] = saved[name];
      }
    }
  });

  it('needs the metadata, refuses binary files and metadata-named files, all before any call', async () => {
    const dest = destination();

    expect((await destinationError(dest.write(files('v1')))).code).toBe('metadata_required');
    const binary = [{ name: 'key', data: Buffer.from([0xff, 0xfe, 0x00]), secret: true }];
    expect((await destinationError(dest.write(binary, metadata('s1')))).code).toBe('binary_artifact');
    const clash = [{ name: 'serial', data: 'x', secret: false }];
    expect((await destinationError(dest.write(clash, metadata('s1')))).code).toBe('invalid_artifact_name');
    const badTimes = { ...metadata('s1'), expiresAt: 'soon' };
    expect((await destinationError(dest.write(files('v1'), badTimes))).code).toBe('invalid_metadata');
    expect(sm.calls).toEqual([]);
  });

  it('retries a write whose answer timed out without creating a second version', async () => {
    await createEmptySecret();
    const first = destination();
    await first.write(files('v1'), metadata('serial-1'));
    const impatient = new SecretsManagerClient({
      region: sm.region,
      endpoint: sm.url,
      credentials: { ...AWS_TEST_CREDENTIALS },
      maxAttempts: 1,
      requestHandler: { requestTimeout: 300, throwOnRequestTimeout: true },
    });
    // The emulator stores the write, then answers too late: the client sees a timeout.
    sm.setFault('PutSecretValue', { kind: 'delay', ms: 1_500, times: 1 });

    try {
      await destination({ client: impatient }).write(files('v2'), metadata('serial-2'));
    } finally {
      impatient.destroy();
    }

    expect(retries.map((r) => r.error)).toEqual([expect.stringMatching(/^TimeoutError/)]);
    expect(sm.calls.filter((call) => call === 'PutSecretValue')).toHaveLength(3);
    expect(versions().map((v) => [v.versionId, v.stages])).toEqual([
      [clientRequestTokenFor(SECRET, 'serial-1'), ['AWSPREVIOUS']],
      [clientRequestTokenFor(SECRET, 'serial-2'), ['AWSCURRENT']],
    ]);
  });

  it('reads nothing from a secret that does not exist, and retries reads too', async () => {
    expect(await destination().read('key')).toBeUndefined();

    await createEmptySecret();
    await destination().write(files('v1'), metadata('serial-1'));
    sm.setFault('GetSecretValue', { kind: 'throttle', times: 1 });
    expect((await destination().read('key'))?.toString()).toContain('v1');
  });
});

describe('clientRequestTokenFor', () => {
  it('is 64 characters, stable, and different per serial and per secret', () => {
    const token = clientRequestTokenFor(SECRET, 'serial-1');

    expect(token).toMatch(/^mid-[0-9a-f]{60}$/);
    expect(clientRequestTokenFor(SECRET, 'serial-1')).toBe(token);
    expect(clientRequestTokenFor(SECRET, 'serial-2')).not.toBe(token);
    expect(clientRequestTokenFor('midbot/ci/other', 'serial-1')).not.toBe(token);
    expect(clientRequestTokenFor('a/b', 'c')).not.toBe(clientRequestTokenFor('a', 'b/c'));
  });
});
