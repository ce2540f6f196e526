import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  CreateSecretCommand,
  type CreateSecretCommandInput,
  PutSecretValueCommand,
  SecretsManagerClient,
  type SecretsManagerClientConfig,
} from '@aws-sdk/client-secrets-manager';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuthService } from '../../lib/auth/auth-service.js';
import { generateCas, type StoredCas } from '../../lib/auth/certificate-authorities.js';
import {
  CA_SECRET_PLACEHOLDER,
  CA_SECRET_RESET,
  SecretsManagerCaStore,
} from '../../lib/auth/secrets-manager-ca-store.js';
import { DynamoDbBackend } from '../../lib/auth/storage/dynamodb-backend.js';
import { createDynamoDbTable } from '../../lib/auth/storage/dynamodb-table.js';
import { ManualClock } from '../../lib/core/clock.js';
import { StorageError } from '../../lib/core/errors.js';
import { silentLogger } from '../../lib/core/logger.js';
import { secureRandom } from '../../lib/core/random.js';
import { caPin } from '../../lib/pki/ca-pin.js';
import { issueTlsFiles } from '../consumer/tls-files.js';
import { AWS_TEST_CREDENTIALS } from '../support/aws-test-credentials.js';
import { type RunningDynalite, startDynalite } from '../support/dynalite.js';
import {
  type SecretsManagerEmulator,
  startSecretsManagerEmulator,
} from '../support/secrets-manager-emulator.js';

const START = Date.parse('2026-11-21T12:00:00Z');
const SECRET = 'mid/auth/cas';

let sm: SecretsManagerEmulator;
const clients: SecretsManagerClient[] = [];

/** One client per simulated cold start, as each Lambda sandbox builds its own. */
function newClient(config: Partial<SecretsManagerClientConfig> = {}): SecretsManagerClient {
  const client = new SecretsManagerClient({
    region: sm.region,
    endpoint: sm.url,
    credentials: { ...AWS_TEST_CREDENTIALS },
    ...config,
  });
  clients.push(client);
  return client;
}

function newStore(
  secretId = SECRET,
  config: Partial<SecretsManagerClientConfig> = {},
): SecretsManagerCaStore {
  return new SecretsManagerCaStore({ client: newClient(config), secretId });
}

function newCas(): StoredCas {
  return generateCas('example.test', 'balanced', new ManualClock(START), secureRandom);
}

async function createSecret(input: Omit<CreateSecretCommandInput, 'Name'>): Promise<string> {
  const created = await newClient().send(new CreateSecretCommand({ Name: SECRET, ...input }));
  return created.ARN!;
}

function versions() {
  return sm.secrets.get(SECRET)?.versions ?? [];
}

function currentValue(): string | undefined {
  return versions().find((version) => version.stages.includes('AWSCURRENT'))?.secretString;
}

const pinOf = (cas: StoredCas) => caPin(cas.tlsHost.certificatePem);

// Generating key pairs is the slow part; racers draw from a pool made once.
let pool: StoredCas[];

beforeAll(() => {
  pool = Array.from({ length: 10 }, () => newCas());
});

beforeEach(async () => {
  sm = await startSecretsManagerEmulator();
});

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await sm.stop();
});

describe('SecretsManagerCaStore', () => {
  it('loads nothing before the first start', async () => {
    expect(await newStore().load()).toBeUndefined();
  });

  it('creates the secret on first start and loads the same CAs afterwards', async () => {
    const cas = pool[0]!;
    const store = new SecretsManagerCaStore({ client: newClient(), secretId: SECRET, kmsKeyId: 'alias/mid' });

    expect(await store.createIfAbsent(cas)).toEqual(cas);
    expect(await newStore().load()).toEqual(cas);
    expect(JSON.parse(currentValue()!)).toEqual(cas);
    expect(sm.secrets.get(SECRET)).toMatchObject({ kmsKeyId: 'alias/mid' });
    expect(versions()).toHaveLength(1);
  });

  it('keeps the CAs that are there when asked to create others', async () => {
    await newStore().createIfAbsent(pool[0]!);

    expect(await newStore().createIfAbsent(pool[1]!)).toEqual(pool[0]);
    expect(versions()).toHaveLength(1);
  });

  it('settles two first starts racing on a missing secret on one set of CAs', async () => {
    const [a, b] = await Promise.all([
      newStore().createIfAbsent(pool[0]!),
      newStore().createIfAbsent(pool[1]!),
    ]);

    expect(pinOf(a)).toBe(pinOf(b));
    expect(JSON.parse(currentValue()!)).toEqual(a);
    expect(versions()).toHaveLength(1);
  });

  it('settles ten first starts racing on a missing secret on one set of CAs', async () => {
    const results = await Promise.all(pool.map((cas) => newStore().createIfAbsent(cas)));

    expect(new Set(results.map(pinOf)).size).toBe(1);
    expect(JSON.parse(currentValue()!)).toEqual(results[0]);
    expect(versions()).toHaveLength(1);
  });

  describe('a secret created by the stack before the first start', () => {
    const placeholders = {
      'the generated placeholder': `{"uninitialised":true,"${CA_SECRET_PLACEHOLDER.generateStringKey}":"Xq9!vT2#pL"}`,
      'the bare placeholder': CA_SECRET_PLACEHOLDER.secretStringTemplate,
      'an empty object': '{}',
    };

    for (const [name, placeholder] of Object.entries(placeholders)) {
      it(`treats ${name} as no CAs, then lets one of ten racers initialise it`, async () => {
        await createSecret({ SecretString: placeholder });
        expect(await newStore().load()).toBeUndefined();

        const results = await Promise.all(pool.map((cas) => newStore().createIfAbsent(cas)));

        expect(new Set(results.map(pinOf)).size).toBe(1);
        expect(JSON.parse(currentValue()!)).toEqual(results[0]);
        // The placeholder plus exactly one CA version: no loser wrote a version of its own.
        expect(versions()).toHaveLength(2);
        expect(versions().find((version) => version.stages.includes('AWSPREVIOUS'))?.secretString).toBe(
          placeholder,
        );
      });
    }

    it('initialises a secret created without any value, once under a race', async () => {
      await createSecret({});
      expect(await newStore().load()).toBeUndefined();

      const results = await Promise.all(pool.map((cas) => newStore().createIfAbsent(cas)));

      expect(new Set(results.map(pinOf)).size).toBe(1);
      expect(versions()).toHaveLength(1);
      expect(JSON.parse(currentValue()!)).toEqual(results[0]);
    });

    it('works with the secret ARN the stack hands the function', async () => {
      const arn = await createSecret({ SecretString: CA_SECRET_PLACEHOLDER.secretStringTemplate });

      const [a, b] = await Promise.all([
        newStore(arn).createIfAbsent(pool[0]!),
        newStore(arn).createIfAbsent(pool[1]!),
      ]);

      expect(pinOf(a)).toBe(pinOf(b));
      expect(await newStore(arn).load()).toEqual(a);
    });

    it('refuses a placeholder put over the CAs, names the versions that put them back, and writes nothing', async () => {
      await createSecret({ SecretString: CA_SECRET_PLACEHOLDER.secretStringTemplate });
      await newStore().createIfAbsent(pool[0]!);
      const casVersion = versions().find((version) => version.stages.includes('AWSCURRENT'))!.versionId;
      // What a deploy does when the construct's initial value changes: UpdateSecret with the new value.
      await newClient().send(
        new PutSecretValueCommand({ SecretId: SECRET, SecretString: '{"uninitialised":true,"v":2}' }),
      );
      const placeholderVersion = versions().find((version) =>
        version.stages.includes('AWSCURRENT'),
      )!.versionId;
      const before = versions().length;

      for (const attempt of [() => newStore().load(), () => newStore().createIfAbsent(pool[1]!)]) {
        const error = await attempt().catch((caught: unknown) => caught);
        expect(error).toBeInstanceOf(StorageError);
        expect(error).toMatchObject({ code: 'ca_reset' });
        const message = (error as Error).message;
        expect(message).toContain(`--move-to-version-id ${casVersion}`);
        expect(message).toContain(`--remove-from-version-id ${placeholderVersion}`);
        expect(message).toContain(CA_SECRET_RESET);
      }
      expect(versions()).toHaveLength(before);
      expect(currentValue()).toBe('{"uninitialised":true,"v":2}');
    });

    it('refuses a second placeholder put over the first, naming the CA version no stage holds any more', async () => {
      await createSecret({ SecretString: CA_SECRET_PLACEHOLDER.secretStringTemplate });
      await newStore().createIfAbsent(pool[0]!);
      const casVersion = versions().find((version) => version.stages.includes('AWSCURRENT'))!.versionId;
      // Two deploys that each changed the construct's initial value: AWSPREVIOUS moves off the CAs.
      for (const value of ['{"uninitialised":true,"v":2}', '{"uninitialised":true,"v":3}']) {
        await newClient().send(new PutSecretValueCommand({ SecretId: SECRET, SecretString: value }));
      }
      expect(versions().find((version) => version.versionId === casVersion)?.stages).toEqual([]);
      const placeholderVersion = versions().find((version) =>
        version.stages.includes('AWSCURRENT'),
      )!.versionId;
      const before = versions().length;

      const error = await newStore()
        .createIfAbsent(pool[1]!)
        .catch((caught: unknown) => caught);
      expect(error).toMatchObject({ code: 'ca_reset' });
      const message = (error as Error).message;
      expect(message).toContain(
        `but an earlier version (${casVersion}, no longer staged) holds this cluster's CAs`,
      );
      expect(message).toContain(
        `--move-to-version-id ${casVersion} --remove-from-version-id ${placeholderVersion}`,
      );
      expect(versions()).toHaveLength(before);
      expect(currentValue()).toBe('{"uninitialised":true,"v":3}');
    });

    it('finds CAs listed on a later page of versions', async () => {
      // The emulator lists versions oldest first, 100 a page: the CAs come after 100 older placeholders.
      await createSecret({ SecretString: CA_SECRET_PLACEHOLDER.secretStringTemplate });
      for (let i = 1; i < 100; i += 1) {
        await newClient().send(
          new PutSecretValueCommand({ SecretId: SECRET, SecretString: `{"uninitialised":true,"v":${i}}` }),
        );
      }
      await newStore().createIfAbsent(pool[0]!);
      const casVersion = versions().find((version) => version.stages.includes('AWSCURRENT'))!.versionId;
      for (const value of ['{"uninitialised":true,"v":"a"}', '{"uninitialised":true,"v":"b"}']) {
        await newClient().send(new PutSecretValueCommand({ SecretId: SECRET, SecretString: value }));
      }
      expect(versions().findIndex((version) => version.versionId === casVersion)).toBe(100);

      await expect(newStore().createIfAbsent(pool[1]!)).rejects.toMatchObject({
        code: 'ca_reset',
        message: expect.stringContaining(`an earlier version (${casVersion}, no longer staged)`),
      });
      expect(currentValue()).toBe('{"uninitialised":true,"v":"b"}');
    });

    it('names the action when listing the versions behind a placeholder is denied', async () => {
      await createSecret({ SecretString: CA_SECRET_PLACEHOLDER.secretStringTemplate });
      sm.setFault('ListSecretVersionIds', { kind: 'access-denied' });
      await expect(newStore().createIfAbsent(pool[0]!)).rejects.toMatchObject({
        code: 'ca_access_denied',
        message: expect.stringContaining('not allowed secretsmanager:ListSecretVersionIds'),
      });
      expect(currentValue()).toBe(CA_SECRET_PLACEHOLDER.secretStringTemplate);
    });

    it('makes new CAs over earlier ones when the placeholder says to discard them', async () => {
      await createSecret({ SecretString: CA_SECRET_PLACEHOLDER.secretStringTemplate });
      await newStore().createIfAbsent(pool[0]!);
      await newClient().send(new PutSecretValueCommand({ SecretId: SECRET, SecretString: CA_SECRET_RESET }));

      expect(await newStore().load()).toBeUndefined();
      expect(await newStore().createIfAbsent(pool[1]!)).toEqual(pool[1]);
      expect(await newStore().load()).toEqual(pool[1]);
    });

    it('writes over a placeholder whose previous version holds no CAs', async () => {
      await createSecret({ SecretString: '{"half":"written"}' });
      await newClient().send(
        new PutSecretValueCommand({
          SecretId: SECRET,
          SecretString: CA_SECRET_PLACEHOLDER.secretStringTemplate,
        }),
      );

      expect(await newStore().createIfAbsent(pool[0]!)).toEqual(pool[0]);
    });
  });

  it('refuses to create a missing secret given only its ARN', async () => {
    const arn = `arn:aws:secretsmanager:${sm.region}:${sm.accountId}:secret:${SECRET}-AbCdEf`;

    expect(await newStore(arn).load()).toBeUndefined();
    await expect(newStore(arn).createIfAbsent(pool[0]!)).rejects.toMatchObject({
      code: 'ca_missing',
      message: expect.stringContaining(arn),
    });
    expect(sm.secrets.list()).toEqual([]);
  });

  describe('a secret that holds something else', () => {
    const cas = newCas();
    const client = issueTlsFiles();
    const corrupt: Record<string, string> = {
      'text that is not JSON': 'hunter2',
      'truncated CA JSON': JSON.stringify(cas).slice(0, 400),
      'JSON missing most CAs': JSON.stringify({ clusterName: 'example.test', suite: 'balanced' }),
      'CAs with an unknown member': JSON.stringify({ ...cas, extra: 1 }),
      'CAs with an unknown suite': JSON.stringify({ ...cas, suite: 'quantum' }),
      'CAs whose key is not PEM': JSON.stringify({ ...cas, sshUser: { privateKeyPem: 'AAAA' } }),
      'CAs whose user CA key is not the key of its certificate': JSON.stringify({
        ...cas,
        tlsUser: { ...cas.tlsUser, privateKeyPem: cas.tlsHost.privateKeyPem },
      }),
      'CAs whose host CA certificate is not a CA': JSON.stringify({
        ...cas,
        tlsHost: { certificatePem: client.tlscert, privateKeyPem: client.key },
      }),
      'a JSON array': '[]',
      'uninitialised set to a string': JSON.stringify({ uninitialised: 'yes' }),
    };

    for (const [name, value] of Object.entries(corrupt)) {
      it(`refuses ${name} as ca_corrupt, without quoting it and without overwriting it`, async () => {
        await createSecret({ SecretString: value });

        for (const attempt of [() => newStore().load(), () => newStore().createIfAbsent(pool[0]!)]) {
          const error = await attempt().catch((thrown: unknown) => thrown);
          expect(error).toBeInstanceOf(StorageError);
          expect(error).toMatchObject({ code: 'ca_corrupt', message: expect.stringContaining(SECRET) });
          expect((error as Error).message).not.toContain('PRIVATE KEY');
          expect((error as Error).message).not.toContain('hunter2');
          expect((error as Error).cause).toBeUndefined();
        }
        expect(versions()).toHaveLength(1);
        expect(currentValue()).toBe(value);
      });
    }

    it('refuses a binary secret as ca_corrupt', async () => {
      await createSecret({ SecretBinary: Buffer.from('binary') });

      await expect(newStore().load()).rejects.toMatchObject({ code: 'ca_corrupt' });
    });
  });

  it('names the action and the secret when access is denied', async () => {
    sm.setFault('GetSecretValue', { kind: 'access-denied' });

    const error = await newStore()
      .load()
      .catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(StorageError);
    expect(error).toMatchObject({ code: 'ca_access_denied' });
    expect((error as Error).message).toContain('secretsmanager:GetSecretValue');
    expect((error as Error).message).toContain(SECRET);
  });

  it('reports a denied first write without leaving a secret behind', async () => {
    sm.setFault('CreateSecret', { kind: 'access-denied' });

    await expect(newStore().createIfAbsent(pool[0]!)).rejects.toMatchObject({
      code: 'ca_access_denied',
      message: expect.stringContaining('secretsmanager:CreateSecret'),
    });
    expect(sm.secrets.list()).toEqual([]);
  });

  it('reports throttling that outlasts the retries as ca_throttled', async () => {
    sm.setFault('GetSecretValue', { kind: 'throttle' });

    await expect(newStore(SECRET, { maxAttempts: 2 }).load()).rejects.toMatchObject({ code: 'ca_throttled' });
    expect(sm.calls).toEqual(['GetSecretValue', 'GetSecretValue']);
  });

  it('takes an SDK retry of a first write whose answer was lost as its own success', async () => {
    await createSecret({ SecretString: CA_SECRET_PLACEHOLDER.secretStringTemplate });
    // The write lands, the answer comes too late, the SDK times out and sends it again.
    sm.setFault('PutSecretValue', { kind: 'delay', ms: 1500, times: 1 });
    const store = newStore(SECRET, { requestHandler: { requestTimeout: 300, throwOnRequestTimeout: true } });

    expect(await store.createIfAbsent(pool[0]!)).toEqual(pool[0]);
    expect(sm.calls.filter((call) => call === 'PutSecretValue')).toHaveLength(2);
    expect(versions()).toHaveLength(2);
    expect(JSON.parse(currentValue()!)).toEqual(pool[0]);
  });
});

describe('two auth services starting at once on AWS storage', () => {
  let dynalite: RunningDynalite;
  let dynamo: DynamoDBClient;

  beforeAll(async () => {
    dynalite = await startDynalite();
    dynamo = new DynamoDBClient({
      region: 'us-east-1',
      endpoint: dynalite.endpoint,
      credentials: { ...AWS_TEST_CREDENTIALS },
    });
    await createDynamoDbTable(dynamo, 'mid-auth');
  });

  afterAll(async () => {
    dynamo.destroy();
    await dynalite.stop();
  });

  it('end up with the same CAs and the same CA pin', async () => {
    const arn = await createSecret({ SecretString: CA_SECRET_PLACEHOLDER.secretStringTemplate });
    const start = () =>
      AuthService.create({
        clusterName: 'example.test',
        caStore: new SecretsManagerCaStore({ client: newClient(), secretId: arn }),
        storage: new DynamoDbBackend({ client: dynamo, tableName: 'mid-auth' }),
        clock: new ManualClock(START),
        random: secureRandom,
        logger: silentLogger,
      });

    const [one, two] = await Promise.all([start(), start()]);

    expect(one.context.cas.caPin).toBe(two.context.cas.caPin);
    expect(one.context.cas.sshUser.publicKeyLine).toBe(two.context.cas.sshUser.publicKeyLine);
    const stored = JSON.parse(currentValue()!) as StoredCas;
    expect(pinOf(stored)).toBe(one.context.cas.caPin);
    expect(versions()).toHaveLength(2);
  });
});
