import { inspect } from 'node:util';
import {
  CreateSecretCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  ConsumerError,
  type Identity,
  IdentityAccessDeniedError,
  IdentityExpiredError,
  type IdentityFetcher,
  IdentityFormatError,
  IdentityLoader,
  type IdentityLoaderOptions,
  IdentityNotFoundError,
  type LoadIdentityOptions,
  loadIdentity,
  MemoryIdentityCache,
  SecretsManagerUnavailableError,
} from '../../lib/consumer/index.js';
import { MidError } from '../../lib/core/errors.js';
import { AWS_TEST_CREDENTIALS } from '../support/aws-test-credentials.js';
import {
  type SecretsManagerEmulator,
  startSecretsManagerEmulator,
} from '../support/secrets-manager-emulator.js';
import { MINUTE, writeIdentitySecret } from './identity-secret.js';
import { issueSshCertificateLine } from './ssh-files.js';
import { issueTlsFiles } from './tls-files.js';

const SECRET = 'midbot/ci/grafana';
const T0 = Date.parse('2030-01-01T00:00:00.000Z');
const TLS = issueTlsFiles();
const KEY = TLS.key;
/** The base64 lines of the key: none of them may show up in a message or a log line. */
const KEY_LINES = KEY.split('\n').filter((line) => line !== '' && !line.startsWith('-----'));

const FILES = {
  ...TLS,
  'key-cert.pub': issueSshCertificateLine(),
  'kubeconfig.yaml': 'apiVersion: v1\nkind: Config\n',
  known_hosts: '@cert-authority *.example.test ssh-ed25519 AAAA\n',
};

let sm: SecretsManagerEmulator;
let client: SecretsManagerClient;
let now: number;
const clock = () => now;

beforeEach(async () => {
  sm = await startSecretsManagerEmulator();
  // One attempt, so each emulator fault is one failed load; the default client retries.
  client = new SecretsManagerClient({
    region: sm.region,
    endpoint: sm.url,
    credentials: { ...AWS_TEST_CREDENTIALS },
    maxAttempts: 1,
  });
  now = T0;
});

afterEach(async () => {
  client.destroy();
  await sm.stop();
});

const gets = () => sm.calls.filter((call) => call === 'GetSecretValue').length;

/** A value as the bot writes it (output `o` of bot `ci`), issued at `issuedAt` for `lifetimeMs`. */
function secretValue(serial: string, issuedAt: number, lifetimeMs = 60 * MINUTE): string {
  return JSON.stringify({
    ...FILES,
    issued_at: new Date(issuedAt).toISOString(),
    expires_at: new Date(issuedAt + lifetimeMs).toISOString(),
    bot: 'ci',
    output: 'o',
    serial,
  });
}

function loader(options: IdentityLoaderOptions = {}): IdentityLoader {
  return new IdentityLoader({ client, clock, ...options });
}

async function rejection(promise: Promise<unknown>): Promise<ConsumerError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(ConsumerError);
    expect(error).toBeInstanceOf(MidError);
    expect((error as Error).message).not.toContain('PRIVATE-KEY-MATERIAL');
    for (const line of KEY_LINES) expect((error as Error).message).not.toContain(line);
    return error as ConsumerError;
  }
  throw new Error('expected a ConsumerError');
}

describe('IdentityLoader', () => {
  it('reads the secret the bot wrote and types its artifacts', async () => {
    await writeIdentitySecret(client, SECRET, FILES, { issuedAt: T0, serial: 'serial-1' });

    const identity = await loader().load(SECRET);

    expect(identity).toMatchObject({
      secretId: SECRET,
      bot: 'ci',
      output: 'application grafana',
      serial: 'serial-1',
      issuedAt: new Date(T0),
      expiresAt: new Date(T0 + 60 * MINUTE),
      tlsCert: FILES.tlscert,
      key: KEY,
      tlsCaCerts: FILES.tlscacerts,
      sshCert: FILES['key-cert.pub'],
      kubeconfig: FILES['kubeconfig.yaml'],
    });
    expect(identity.files).toEqual(FILES);
  });

  it('never shows key material when an identity is logged', async () => {
    await writeIdentitySecret(client, SECRET, FILES, { issuedAt: T0, serial: 'serial-1' });

    const identity = await loader().load(SECRET);

    for (const shown of [
      JSON.stringify(identity),
      inspect(identity, { depth: 5 }),
      `${JSON.stringify({ identity })}`,
    ]) {
      for (const line of KEY_LINES) expect(shown).not.toContain(line);
      expect(shown).toContain('serial-1');
    }
    expect(JSON.parse(JSON.stringify(identity)).files).toEqual(Object.keys(FILES).sort());
  });

  it('serves the cache until a third of the lifetime remains, then fetches, at most every 30 s', async () => {
    await writeIdentitySecret(client, SECRET, FILES, { issuedAt: T0, serial: 'serial-1' });
    const ids = loader();

    now = T0 + 10 * MINUTE;
    await ids.load(SECRET);
    now = T0 + 39 * MINUTE; // 21 min of 60 left
    expect((await ids.load(SECRET)).serial).toBe('serial-1');
    expect(gets()).toBe(1);

    now = T0 + 41 * MINUTE; // 19 min left: due; the bot has not renewed yet
    expect((await ids.load(SECRET)).serial).toBe('serial-1');
    expect(gets()).toBe(2);
    now += 10_000;
    await ids.load(SECRET);
    expect(gets()).toBe(2);

    await writeIdentitySecret(client, SECRET, FILES, { issuedAt: T0 + 40 * MINUTE, serial: 'serial-2' });
    now = T0 + 42 * MINUTE;
    expect((await ids.load(SECRET)).serial).toBe('serial-2');
    expect(gets()).toBe(3);
    now = T0 + 79 * MINUTE; // 21 min left of the new one
    expect((await ids.load(SECRET)).serial).toBe('serial-2');
    expect(gets()).toBe(3);
  });

  it('honours refreshWhenRemaining', async () => {
    await writeIdentitySecret(client, SECRET, FILES, { issuedAt: T0, serial: 'serial-1' });
    const ids = loader({ refreshWhenRemaining: 0.5 });

    await ids.load(SECRET);
    now = T0 + 29 * MINUTE;
    await ids.load(SECRET);
    expect(gets()).toBe(1);
    now = T0 + 31 * MINUTE;
    await ids.load(SECRET);
    expect(gets()).toBe(2);
    expect(() => loader({ refreshWhenRemaining: 1 })).toThrow(/between 0 and 1/);
  });

  it('keeps serving the cached identity while Secrets Manager is unavailable, then refuses once it expired', async () => {
    await writeIdentitySecret(client, SECRET, FILES, { issuedAt: T0, serial: 'serial-1' });
    const reported: Array<{ code: string; secretId: string; serial: string }> = [];
    const ids = loader({
      onRefreshError: (error, context) =>
        reported.push({ code: error.code, secretId: context.secretId, serial: context.served.serial }),
    });
    await ids.load(SECRET);

    sm.setFault('GetSecretValue', { kind: 'internal-error', status: 503 });
    now = T0 + 45 * MINUTE;
    expect((await ids.load(SECRET)).serial).toBe('serial-1');
    now = T0 + 59 * MINUTE;
    sm.setFault('GetSecretValue', { kind: 'throttle' });
    expect((await ids.load(SECRET)).serial).toBe('serial-1');
    expect(reported).toEqual([
      { code: 'secrets_manager_unavailable', secretId: SECRET, serial: 'serial-1' },
      { code: 'secrets_manager_unavailable', secretId: SECRET, serial: 'serial-1' },
    ]);

    now = T0 + 60 * MINUTE;
    const error = await rejection(ids.load(SECRET));

    expect(error).toBeInstanceOf(IdentityExpiredError);
    expect(error.code).toBe('identity_expired');
    expect((error as IdentityExpiredError).expiresAt).toEqual(new Date(T0 + 60 * MINUTE));
    expect(error.cause).toBeInstanceOf(SecretsManagerUnavailableError);
    expect(error.message).toMatch(
      /expired at 2030-01-01T01:00:00.000Z and no newer one could be read: .*Throttling/,
    );
  });

  it('serves the cached identity when Secrets Manager cannot be reached at all', async () => {
    await writeIdentitySecret(client, SECRET, FILES, { issuedAt: T0, serial: 'serial-1' });
    const ids = loader();
    await ids.load(SECRET);
    await sm.stop();

    now = T0 + 50 * MINUTE;
    expect((await ids.load(SECRET)).serial).toBe('serial-1');
    const fresh = await rejection(loader().load(SECRET));
    expect(fresh).toBeInstanceOf(SecretsManagerUnavailableError);
    expect(fresh.message).toMatch(/ECONNREFUSED/);
  });

  it('throws SecretsManagerUnavailableError when nothing is cached', async () => {
    sm.setFault('GetSecretValue', { kind: 'throttle' });

    const error = await rejection(loader().load(SECRET));

    expect(error).toBeInstanceOf(SecretsManagerUnavailableError);
    expect(error.code).toBe('secrets_manager_unavailable');
    expect(error.secretId).toBe(SECRET);
  });

  it('says when the secret does not exist', async () => {
    const error = await rejection(loader().load(SECRET));

    expect(error).toBeInstanceOf(IdentityNotFoundError);
    expect(error.code).toBe('identity_not_found');
    expect(error.message).toMatch(
      /midbot\/ci\/grafana cannot be read: ResourceNotFoundException .*the bot has run/,
    );
    expect(error.message).not.toContain('..');
  });

  it("says the process's credentials were refused, as a setting to fix rather than an outage", async () => {
    const own = new SecretsManagerClient({
      region: sm.region,
      endpoint: sm.url,
      credentials: { ...AWS_TEST_CREDENTIALS, accessKeyId: 'AKIANOTAREALKEY00000' },
      maxAttempts: 1,
    });
    try {
      const error = await rejection(new IdentityLoader({ client: own, clock }).load(SECRET));
      expect(error).toBeInstanceOf(IdentityAccessDeniedError);
      expect(error.message).toMatch(
        /^Secrets Manager refused this process's AWS credentials reading secret .*UnrecognizedClientException.*Check the credentials it runs with: a wrong access key or secret key, an expired session token, or a clock far off/,
      );
    } finally {
      own.destroy();
    }
  });

  it.each([
    [
      'a client without a region',
      () => {
        // Nowhere for the SDK to find a region: no variable, no config file.
        vi.stubEnv('AWS_REGION', undefined);
        vi.stubEnv('AWS_DEFAULT_REGION', undefined);
        vi.stubEnv('AWS_PROFILE', undefined);
        vi.stubEnv('AWS_CONFIG_FILE', '/nonexistent/aws-config');
        return new SecretsManagerClient({ credentials: { ...AWS_TEST_CREDENTIALS } });
      },
      ". Set AWS_REGION to the secret's region (Lambda and ECS set it for you) or pass a client built with one",
    ],
    [
      'a process without credentials',
      () =>
        new SecretsManagerClient({
          region: sm.region,
          endpoint: sm.url,
          credentials: async () => {
            // What the SDK's default provider chain throws when no provider has credentials.
            throw Object.assign(new Error('Could not load credentials from any providers'), {
              name: 'CredentialsProviderError',
            });
          },
        }),
      '. This process has no AWS credentials: run it with a role (the Lambda execution role, the ECS task role)',
    ],
    [
      'an endpoint nothing answers on',
      () =>
        new SecretsManagerClient({
          region: sm.region,
          endpoint: 'http://127.0.0.1:9',
          credentials: { ...AWS_TEST_CREDENTIALS },
          maxAttempts: 1,
        }),
      '. Check the network path to Secrets Manager: a function or task in a VPC needs a Secrets Manager VPC endpoint or a NAT gateway',
    ],
  ])('says what to check with %s', async (_what, makeClient, advice) => {
    const own = makeClient();
    try {
      const error = await rejection(new IdentityLoader({ client: own, clock }).load(SECRET));
      expect(error).toBeInstanceOf(SecretsManagerUnavailableError);
      expect(error.message).toContain(advice);
    } finally {
      own.destroy();
      vi.unstubAllEnvs();
    }
  });

  it('says when the secret exists but the bot has not written a value yet', async () => {
    await client.send(new CreateSecretCommand({ Name: SECRET }));

    const error = await rejection(loader().load(SECRET));

    expect(error).toBeInstanceOf(IdentityNotFoundError);
    expect(error.message).toMatch(/staging label: AWSCURRENT/);
  });

  it('refuses a binary secret value', async () => {
    await client.send(new CreateSecretCommand({ Name: SECRET, SecretBinary: Buffer.from('binary') }));

    const error = await rejection(loader().load(SECRET));

    expect(error).toBeInstanceOf(IdentityFormatError);
    expect(error.message).toMatch(/holds a binary value/);
  });

  it('says when it may not read the secret, even with a valid identity cached', async () => {
    await writeIdentitySecret(client, SECRET, FILES, { issuedAt: T0, serial: 'serial-1' });
    const ids = loader();
    await ids.load(SECRET);
    sm.setFault('GetSecretValue', { kind: 'access-denied' });

    now = T0 + 45 * MINUTE;
    const error = await rejection(ids.load(SECRET));

    expect(error).toBeInstanceOf(IdentityAccessDeniedError);
    expect(error.message).toMatch(/secretsmanager:GetSecretValue/);
  });

  it('refuses a value that is not JSON without quoting it', async () => {
    await writeIdentitySecret(client, SECRET, FILES, { issuedAt: T0, serial: 'serial-1' });
    await client.send(
      new PutSecretValueCommand({ SecretId: SECRET, SecretString: 'PRIVATE-KEY-MATERIAL not json' }),
    );

    const error = await rejection(loader().load(SECRET));

    expect(error).toBeInstanceOf(IdentityFormatError);
    expect(error.code).toBe('identity_format_invalid');
    expect(error.message).toMatch(/is not JSON/);
  });

  it.each([
    [
      'a missing expires_at',
      { issued_at: '2030-01-01T00:00:00Z', bot: 'b', output: 'o', serial: 's' },
      /"expires_at": expected the expiry time as a string/,
    ],
    [
      'a malformed issued_at',
      { expires_at: '2030-01-01T01:00:00Z', issued_at: 'yesterday', bot: 'b', output: 'o', serial: 's' },
      /"issued_at": expected the issue time as an ISO 8601 time/,
    ],
    [
      'an empty serial',
      {
        expires_at: '2030-01-01T01:00:00Z',
        issued_at: '2030-01-01T00:00:00Z',
        bot: 'b',
        output: 'o',
        serial: '',
      },
      /"serial": expected the certificate serial, got an empty string/,
    ],
    [
      'a file that is not a string',
      {
        expires_at: '2030-01-01T01:00:00Z',
        issued_at: '2030-01-01T00:00:00Z',
        bot: 'b',
        output: 'o',
        serial: 's',
        key: { pem: 'PRIVATE-KEY-MATERIAL' },
      },
      /"key": expected every artifact as a string/,
    ],
    [
      'expiry before issue',
      {
        expires_at: '2030-01-01T00:00:00Z',
        issued_at: '2030-01-01T01:00:00Z',
        bot: 'b',
        output: 'o',
        serial: 's',
      },
      /is not after issued_at/,
    ],
    [
      'a time without its zone (read as local time)',
      {
        expires_at: '2030-01-01T01:00:00',
        issued_at: '2030-01-01T00:00:00Z',
        bot: 'b',
        output: 'o',
        serial: 's',
      },
      /"expires_at": expected the expiry time as an ISO 8601 time with its zone/,
    ],
    [
      'a year for a time',
      { expires_at: '2031', issued_at: '2030-01-01T00:00:00Z', bot: 'b', output: 'o', serial: 's' },
      /"expires_at": expected the expiry time as an ISO 8601 time with its zone/,
    ],
    [
      'an empty certificate',
      {
        expires_at: '2030-01-01T01:00:00Z',
        issued_at: '2030-01-01T00:00:00Z',
        bot: 'b',
        output: 'o',
        serial: 's',
        tlscert: '',
      },
      /"tlscert": expected a PEM certificate/,
    ],
    [
      'a key that is no PEM private key',
      {
        expires_at: '2030-01-01T01:00:00Z',
        issued_at: '2030-01-01T00:00:00Z',
        bot: 'b',
        output: 'o',
        serial: 's',
        key: 'PRIVATE-KEY-MATERIAL',
      },
      /"key": expected a PEM private key/,
    ],
    [
      // The key is the one whose lines rejection() looks for in the message.
      'a tlscert issued for another key',
      {
        ...FILES,
        tlscert: issueTlsFiles().tlscert,
        expires_at: '2030-01-01T01:00:00Z',
        issued_at: '2030-01-01T00:00:00Z',
        bot: 'b',
        output: 'o',
        serial: 's',
      },
      /"key" is not the private key of the certificate in key "tlscert"/,
    ],
    [
      'a tlscert that expired before its issued_at',
      {
        ...FILES,
        ...issueTlsFiles({ notAfter: new Date(T0 - MINUTE) }),
        expires_at: '2030-01-01T01:00:00Z',
        issued_at: '2030-01-01T00:00:00Z',
        bot: 'b',
        output: 'o',
        serial: 's',
      },
      /key "tlscert": the certificate expires at 2029-12-31T23:59:00.000Z, not after issued_at/,
    ],
    [
      'an SSH certificate that cannot be read',
      {
        ...FILES,
        'key-cert.pub': 'ssh-ed25519-cert-v01@openssh.com AAAA\n',
        expires_at: '2030-01-01T01:00:00Z',
        issued_at: '2030-01-01T00:00:00Z',
        bot: 'b',
        output: 'o',
        serial: 's',
      },
      /key "key-cert.pub": expected an OpenSSH certificate, but it cannot be read as one/,
    ],
    [
      'an SSH certificate that expired before its issued_at',
      {
        ...FILES,
        'key-cert.pub': issueSshCertificateLine({ validBefore: new Date(T0 - MINUTE) }),
        expires_at: '2030-01-01T01:00:00Z',
        issued_at: '2030-01-01T00:00:00Z',
        bot: 'b',
        output: 'o',
        serial: 's',
      },
      /key "key-cert.pub": the certificate expires at 2029-12-31T23:59:00.000Z, not after issued_at/,
    ],
    ['a list', ['PRIVATE-KEY-MATERIAL'], /expected a JSON object/],
  ])('refuses %s', async (_, value, message) => {
    await writeIdentitySecret(client, SECRET, FILES, { issuedAt: T0, serial: 'serial-1' });
    await client.send(new PutSecretValueCommand({ SecretId: SECRET, SecretString: JSON.stringify(value) }));

    const error = await rejection(loader().load(SECRET));

    expect(error).toBeInstanceOf(IdentityFormatError);
    expect(error.message).toMatch(message);
  });

  it('refuses an identity that had already expired when it was read', async () => {
    await writeIdentitySecret(client, SECRET, FILES, { issuedAt: T0 - 90 * MINUTE, serial: 'stale' });

    const error = await rejection(loader().load(SECRET));

    expect(error).toBeInstanceOf(IdentityExpiredError);
    expect(error.message).toMatch(/expired at 2029-12-31T23:30:00.000Z: the bot has not renewed it/);
    // What this machine's clock says, for the reader to compare: one running ahead expires them early.
    expect(error.message).toContain("or this machine's clock, which reads 2030-01-01T00:00:00.000Z");
  });

  it("never serves an identity past its certificate's notAfter, whatever expires_at says", async () => {
    // A value whose expires_at runs past its certificate (written by an older bot, whose expires_at was
    // up to a second late, or by hand): the certificate is what a server checks.
    const tls = issueTlsFiles({ notAfter: new Date(T0 + 30 * MINUTE) });
    const fetched = await expectServedUntilHalfPast({ ...FILES, ...tls });
    expect(fetched.message).toMatch(/expired at 2030-01-01T00:30:00.000Z/);
  });

  /**
   * Writes an identity of `files` issued at T0 for an hour, and checks that it is served until T0 + 30
   * minutes (when one of its certificates ends) and refused from then on, from the cache during an
   * outage and fetched afresh alike. Gives the refusal of the fresh fetch.
   */
  async function expectServedUntilHalfPast(files: Record<string, string>, output?: string) {
    await writeIdentitySecret(client, SECRET, files, {
      issuedAt: T0,
      serial: 'serial-1',
      ...(output === undefined ? {} : { output }),
    });
    const ids = loader();
    now = T0 + 5 * MINUTE;
    expect((await ids.load(SECRET)).expiresAt).toEqual(new Date(T0 + 30 * MINUTE));
    now = T0 + 30 * MINUTE;
    sm.setFault('GetSecretValue', { kind: 'internal-error', status: 503 });
    const cached = await rejection(ids.load(SECRET));
    sm.setFault('GetSecretValue', undefined);
    const fetched = await rejection(loader().load(SECRET));
    for (const error of [cached, fetched]) {
      expect(error).toBeInstanceOf(IdentityExpiredError);
      expect((error as IdentityExpiredError).expiresAt).toEqual(new Date(T0 + 30 * MINUTE));
    }
    return fetched;
  }

  it.each([
    ['identity', 'key-cert.pub', FILES],
    // An ssh_host output has no tlscert: its host certificate is all a reader has to go by.
    [
      'ssh_host',
      'ssh_host-cert.pub',
      { ssh_host: KEY, 'ssh_host-user-ca.pub': 'ssh-ed25519 AAAA user-ca\n' },
    ],
  ])(
    "never serves an %s output past its SSH certificate's valid_before, whatever expires_at says",
    async (kind, name, files) => {
      // OpenSSH refuses a certificate from valid_before on: a value whose expires_at runs later (an
      // older bot wrote it up to a second late; a value written by hand) must not outlive it.
      const sshCert = issueSshCertificateLine({
        type: kind === 'identity' ? 'user' : 'host',
        validBefore: new Date(T0 + 30 * MINUTE),
      });
      await expectServedUntilHalfPast({ ...files, [name]: sshCert }, kind);
    },
  );

  it('never returns an identity at the very millisecond it expires, cached or fetched', async () => {
    await writeIdentitySecret(client, SECRET, FILES, { issuedAt: T0, serial: 'serial-1' });
    const expiry = T0 + 60 * MINUTE;
    const ids = loader();
    now = expiry - 10_000;
    await ids.load(SECRET); // checked 10 s ago when it expires: within minRefreshIntervalMs
    now = expiry;
    expect(await rejection(ids.load(SECRET))).toBeInstanceOf(IdentityExpiredError);
    expect(await rejection(loader().load(SECRET))).toBeInstanceOf(IdentityExpiredError);
  });

  it('shares one fetch between 20 concurrent loads', async () => {
    await writeIdentitySecret(client, SECRET, FILES, { issuedAt: T0, serial: 'serial-1' });
    const ids = loader();

    const identities = await Promise.all(Array.from({ length: 20 }, () => ids.load(SECRET)));

    expect(gets()).toBe(1);
    expect(new Set(identities).size).toBe(1);
  });

  it('shares one failing fetch between concurrent loads too', async () => {
    sm.setFault('GetSecretValue', { kind: 'delay', ms: 100, process: 'after-delay' });
    const ids = loader();

    const results = await Promise.allSettled(Array.from({ length: 5 }, () => ids.load(SECRET)));

    expect(gets()).toBe(1);
    expect(results.every((r) => r.status === 'rejected' && r.reason instanceof IdentityNotFoundError)).toBe(
      true,
    );
  });

  it('never steps back to an older version a lagging read returns', async () => {
    const versions = [
      { issued: T0 + 40 * MINUTE, serial: 'new' },
      { issued: T0, serial: 'old' },
    ];
    const fetcher: IdentityFetcher = {
      fetch: async () => {
        const next = versions.shift() ?? { issued: T0, serial: 'old' };
        return secretValue(next.serial, next.issued);
      },
    };
    const cache = new MemoryIdentityCache();
    const ids = new IdentityLoader({ fetcher, cache, clock, minRefreshIntervalMs: 0 });

    now = T0 + 45 * MINUTE;
    expect((await ids.load(SECRET)).serial).toBe('new');
    now = T0 + 85 * MINUTE; // due again
    expect((await ids.load(SECRET)).serial).toBe('new');
    expect(cache.get(SECRET)?.checkedAt).toBe(T0 + 85 * MINUTE);
  });

  it('takes a valid identity it reads over an expired cached one, even one issued earlier', async () => {
    // AWSCURRENT moved back to a longer-lived version (update-secret-version-stage) after a short one.
    const versions = [
      { issued: T0 + 10 * MINUTE, lifetime: 30 * MINUTE, serial: 'short' },
      { issued: T0, lifetime: 120 * MINUTE, serial: 'long' },
    ];
    const fetcher: IdentityFetcher = {
      fetch: async () => {
        const next = (versions.length > 1 ? versions.shift() : versions[0]) ?? versions[0];
        if (next === undefined) throw new Error('no version');
        return secretValue(next.serial, next.issued, next.lifetime);
      },
    };
    const ids = new IdentityLoader({ fetcher, clock, minRefreshIntervalMs: 0 });

    now = T0 + 15 * MINUTE;
    expect((await ids.load(SECRET)).serial).toBe('short');
    now = T0 + 41 * MINUTE; // the short one expired a minute ago
    expect((await ids.load(SECRET)).serial).toBe('long');
  });

  it('treats an unknown error from a custom fetcher as an outage', async () => {
    let fail = false;
    const fetcher: IdentityFetcher = {
      fetch: async () => {
        if (fail) throw new Error('socket hang up');
        return secretValue('s', T0);
      },
    };
    const ids = new IdentityLoader({ fetcher, clock });
    await ids.load(SECRET);
    fail = true;

    now = T0 + 50 * MINUTE;
    expect((await ids.load(SECRET)).serial).toBe('s');
    const error = await rejection(new IdentityLoader({ fetcher, clock }).load(SECRET));
    expect(error).toBeInstanceOf(SecretsManagerUnavailableError);
  });

  it('does not hold a caller on a hung Secrets Manager while a valid identity is cached', async () => {
    let answer: () => Promise<string> = async () => secretValue('first', T0);
    let fetches = 0;
    const fetcher: IdentityFetcher = {
      fetch: () => {
        fetches += 1;
        return answer();
      },
    };
    const ids = new IdentityLoader({ fetcher, clock, refreshWaitMs: 50 });
    await ids.load(SECRET);

    // Refresh due, and Secrets Manager answers only when told to.
    let release: (text: string) => void = () => {};
    answer = () =>
      new Promise<string>((resolve) => {
        release = resolve;
      });
    now = T0 + 45 * MINUTE;
    const started = performance.now();
    expect((await ids.load(SECRET)).serial).toBe('first');
    expect(performance.now() - started).toBeLessThan(1_000);
    // The refresh goes on in the background; when it lands, the next call gets the new identity.
    release(secretValue('second', T0 + 40 * MINUTE));
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect((await ids.load(SECRET)).serial).toBe('second');
    expect(fetches).toBe(2);

    // A definite answer that comes in time is still thrown, cache or not.
    now = T0 + 90 * MINUTE;
    answer = async () => {
      throw new IdentityNotFoundError(`secret ${SECRET} does not exist`, { secretId: SECRET });
    };
    await expect(ids.load(SECRET)).rejects.toBeInstanceOf(IdentityNotFoundError);
    expect(() => new IdentityLoader({ fetcher, refreshWaitMs: -1 })).toThrow(/refreshWaitMs/);
  });

  it('gives up on a fetch that hangs after fetchTimeoutMs, so no caller waits on it forever', async () => {
    let fetches = 0;
    let hang = false;
    let issuedAt = T0;
    const fetcher: IdentityFetcher = {
      fetch: () => {
        fetches += 1;
        if (hang) return new Promise<string>(() => {});
        return Promise.resolve(secretValue(`s${fetches}`, issuedAt));
      },
    };
    const ids = new IdentityLoader({ fetcher, clock, fetchTimeoutMs: 50, maxFailureBackoffMs: 0 });
    await ids.load(SECRET);

    // Expired, and the one fetch that could replace it never answers (a client without timeouts).
    hang = true;
    now = T0 + 61 * MINUTE;
    const started = performance.now();
    const error = await rejection(ids.load(SECRET));
    expect(performance.now() - started).toBeLessThan(5_000);
    expect(error).toBeInstanceOf(IdentityExpiredError);
    expect(error.message).toContain('did not answer for');
    expect(error.message).toContain('within 50 ms (fetchTimeoutMs)');
    // The hung call is not the one later callers wait on: the next load asks again.
    hang = false;
    issuedAt = T0 + 60 * MINUTE;
    expect((await ids.load(SECRET)).serial).toBe('s3');
    expect(fetches).toBe(3);
    expect(() => new IdentityLoader({ fetcher, fetchTimeoutMs: 0 })).toThrow(/fetchTimeoutMs/);
    // Past what a Node.js timer takes, a delay becomes 1 ms: refused rather than timing out every call.
    expect(() => new IdentityLoader({ fetcher, fetchTimeoutMs: 3e9 })).toThrow(
      'fetchTimeoutMs must be more than 0 and at most 2147483647 (about 24.8 days), got 3000000000',
    );
    expect(() => new IdentityLoader({ fetcher, refreshWaitMs: 3e9 })).toThrow(/refreshWaitMs must be/);
  });

  it('never serves the cached identity if it expired while the caller waited for a hung refresh', async () => {
    await writeIdentitySecret(client, SECRET, FILES, { issuedAt: T0, serial: 'serial-1' });
    const ids = loader({ refreshWaitMs: 50 });
    await ids.load(SECRET);

    // The refresh is due 200 ms before expiry; Secrets Manager hangs past it.
    sm.setFault('GetSecretValue', { kind: 'delay', ms: 300 });
    now = T0 + 60 * MINUTE - 200;
    const waiting = ids.load(SECRET);
    now = T0 + 60 * MINUTE; // what the clock reads when the wait is over

    const error = await rejection(waiting);
    expect(error).toBeInstanceOf(IdentityExpiredError);
    expect((error as IdentityExpiredError).expiresAt).toEqual(new Date(T0 + 60 * MINUTE));
  });

  it('fetches again after invalidate', async () => {
    await writeIdentitySecret(client, SECRET, FILES, { issuedAt: T0, serial: 'serial-1' });
    const ids = loader();
    await ids.load(SECRET);

    ids.invalidate(SECRET);
    await ids.load(SECRET);

    expect(gets()).toBe(2);
  });

  it('answers a failure again without a call for a backoff of 1 s, doubling up to maxFailureBackoffMs', async () => {
    const ids = loader({ maxFailureBackoffMs: 3_000 });
    const first = await rejection(ids.load(SECRET));
    expect(first).toBeInstanceOf(IdentityNotFoundError);

    // [ms after the first failure, whether Secrets Manager is asked]: backoffs of 1, 2, 3, 3 s.
    const schedule: Array<[number, boolean]> = [
      [999, false],
      [1_000, true],
      [2_999, false],
      [3_000, true],
      [5_999, false],
      [6_000, true],
      [8_999, false],
      [9_000, true],
    ];
    for (const [after, asked] of schedule) {
      now = T0 + after;
      const before = gets();
      const error = await rejection(ids.load(SECRET));
      expect({ after, asked: gets() > before }).toEqual({ after, asked });
      expect(error).toBeInstanceOf(IdentityNotFoundError);
      if (!asked) expect(error.message).toBe(first.message);
    }

    // Once it is there, the next call after the backoff gets it, and a new failure starts at 1 s.
    await writeIdentitySecret(client, SECRET, FILES, { issuedAt: T0, serial: 'serial-1' });
    now = T0 + 12_000;
    expect((await ids.load(SECRET)).serial).toBe('serial-1');
    sm.setFault('GetSecretValue', { kind: 'access-denied' });
    now = T0 + 45 * MINUTE;
    await rejection(ids.load(SECRET));
    const calls = gets();
    now += 999;
    expect(await rejection(ids.load(SECRET))).toBeInstanceOf(IdentityAccessDeniedError);
    now += 1;
    await rejection(ids.load(SECRET));
    expect(gets()).toBe(calls + 1);
  });

  it('backs off an outage with nothing cached, and invalidate ends the backoff', async () => {
    sm.setFault('GetSecretValue', { kind: 'throttle' });
    const ids = loader();
    for (let i = 0; i < 5; i += 1) {
      expect(await rejection(ids.load(SECRET))).toBeInstanceOf(SecretsManagerUnavailableError);
    }
    expect(gets()).toBe(1);

    sm.setFault('GetSecretValue', undefined);
    await writeIdentitySecret(client, SECRET, FILES, { issuedAt: T0, serial: 'serial-1' });
    ids.invalidate(SECRET);
    expect((await ids.load(SECRET)).serial).toBe('serial-1');
  });

  it('asks every time with maxFailureBackoffMs 0, and refuses a negative one', async () => {
    const ids = loader({ maxFailureBackoffMs: 0 });
    await rejection(ids.load(SECRET));
    await rejection(ids.load(SECRET));
    expect(gets()).toBe(2);
    expect(() => loader({ maxFailureBackoffMs: -1 })).toThrow(
      'maxFailureBackoffMs must be 0 or more, got -1',
    );
  });

  it('refuses a secret id Secrets Manager could not accept, before any call', async () => {
    const error = await rejection(loader().load('midbot ci'));

    expect(error.code).toBe('invalid_secret_id');
    expect(sm.calls).toEqual([]);
  });

  it('says load takes the secret id itself when given the { secretId } that loadIdentity takes', async () => {
    const wrongShape = { secretId: SECRET } as unknown as string;
    const error = await rejection(loader().load(wrongShape));

    expect(error).toMatchObject({
      code: 'invalid_secret_id',
      message:
        'IdentityLoader.load takes the secret name or ARN itself, a string, but got an object with secretId (the options loadIdentity takes); call loader.load(options.secretId)',
    });
    expect(() => loader().invalidate(wrongShape)).toThrow(
      'IdentityLoader.invalidate takes the secret name or ARN itself, a string',
    );
    expect((await rejection(loader().load(42 as unknown as string))).message).toBe(
      "IdentityLoader.load takes the secret name or ARN as a string, e.g. loader.load('machine-id/ci/billing'), but got a number",
    );
    expect(sm.calls).toEqual([]);
  });
});

describe('loadIdentity', () => {
  it('says it takes options when given the secret id itself, as loader.load takes it', async () => {
    const error = await rejection(loadIdentity(SECRET as unknown as LoadIdentityOptions));

    expect(error).toMatchObject({
      code: 'invalid_secret_id',
      message: `loadIdentity takes options, not the secret id itself: call loadIdentity({ secretId: "${SECRET}" }), or new IdentityLoader().load(secretId)`,
    });
  });

  it.each([
    ['missing', { client }, 'missing (an environment variable that is not set?)'],
    ['not a string', { secretId: 42, client }, 'a number'],
  ])('names options.secretId when it is %s, and makes no call', async (_what, options, described) => {
    const error = await rejection(loadIdentity(options as unknown as LoadIdentityOptions));
    expect(error).toMatchObject({
      code: 'invalid_secret_id',
      message: `loadIdentity: options.secretId is ${described}; give the secret name or ARN as a string, e.g. loadIdentity({ secretId: 'machine-id/ci/billing' })`,
    });
    expect(sm.calls).toEqual([]);
  });

  it('caches across calls made with the same client and clock', async () => {
    await writeIdentitySecret(client, SECRET, FILES, { issuedAt: T0, serial: 'serial-1' });

    const first: Identity = await loadIdentity({ secretId: SECRET, client, clock });
    now = T0 + 30 * MINUTE;
    const second = await loadIdentity({ secretId: SECRET, client, clock });

    expect(second).toBe(first);
    expect(gets()).toBe(1);
    now = T0 + 41 * MINUTE;
    await loadIdentity({ secretId: SECRET, client, clock });
    expect(gets()).toBe(2);
  });
});

describe('a secret the bot has not written yet', () => {
  it('is reported as not issued yet, not as a malformed identity', async () => {
    const { parseIdentity } = await import('../../lib/consumer/identity.js');
    const { IdentityNotFoundError } = await import('../../lib/consumer/errors.js');
    expect(() => parseIdentity('{"uninitialised":true}', 'machine-id/robot/identity')).toThrow(
      IdentityNotFoundError,
    );
    expect(() => parseIdentity('{"uninitialised":true}', 'machine-id/robot/identity')).toThrow(
      /has not run since it was deployed/,
    );
  });
});
