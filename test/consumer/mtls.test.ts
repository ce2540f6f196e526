import { mkdtemp, rm, stat } from 'node:fs/promises';
import https from 'node:https';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createMtlsAgent,
  createMtlsDispatcher,
  type Identity,
  IdentityFormatError,
  IdentityLoader,
  writeIdentityFiles,
} from '../../lib/consumer/index.js';
import { AWS_TEST_CREDENTIALS } from '../support/aws-test-credentials.js';
import type { MtlsAppAnswer, MtlsAppServer } from '../support/mtls-app-server.js';
import type { OpensslCa } from '../support/openssl-ca.js';
import { runCommand } from '../support/run-command.js';
import {
  type SecretsManagerEmulator,
  startSecretsManagerEmulator,
} from '../support/secrets-manager-emulator.js';
import { type BillingApp, MINUTE, startBillingApp, writeIdentitySecret } from './identity-secret.js';

const SECRET = 'midbot/ci/billing';

let work: string;
let sm: SecretsManagerEmulator;
let client: SecretsManagerClient;
let userCa: OpensslCa;
let appCa: OpensslCa;
let app: MtlsAppServer;
let identity: Identity;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'mid-consumer-mtls-'));
  let bot: BillingApp['bot'];
  ({ userCa, appCa, app, bot } = await startBillingApp(work));
  sm = await startSecretsManagerEmulator();
  client = new SecretsManagerClient({
    region: sm.region,
    endpoint: sm.url,
    credentials: { ...AWS_TEST_CREDENTIALS },
  });
  // An application output, written the way the bot writes it.
  await writeIdentitySecret(
    client,
    SECRET,
    { tlscert: bot.certPem, key: bot.keyPem, tlscacerts: userCa.certPem },
    { issuedAt: Date.now() - MINUTE, serial: 'serial-1', output: 'application billing' },
  );
  identity = await new IdentityLoader({ client }).load(SECRET);
});

afterAll(async () => {
  client?.destroy();
  await sm?.stop();
  await app?.stop();
  await rm(work, { recursive: true, force: true });
});

function get(agent: https.Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    https
      .get(app.url, { agent }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      })
      .on('error', reject);
  });
}

describe('createMtlsAgent', () => {
  it('presents the identity’s certificate to an app that requires one', async () => {
    const agent = createMtlsAgent(identity, { ca: appCa.certPem });
    try {
      const answer = await get(agent);

      expect(answer.status).toBe(200);
      expect(JSON.parse(answer.body) as MtlsAppAnswer).toMatchObject({
        ok: true,
        app: 'billing',
        subject: { CN: 'bot-ci' },
        issuer: { CN: 'Machine ID user CA' },
      });
    } finally {
      agent.destroy();
    }
  });

  it('does not trust the identity’s own CAs for the server unless told to', async () => {
    const agent = createMtlsAgent(identity);
    try {
      await expect(get(agent)).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    } finally {
      agent.destroy();
    }
  });

  it('cannot be talked out of verifying the server', async () => {
    // A JavaScript caller can pass what the type forbids; the agent still verifies.
    const options = { rejectUnauthorized: false } as Parameters<typeof createMtlsAgent>[1];
    const agent = createMtlsAgent(identity, options);
    try {
      await expect(get(agent)).rejects.toMatchObject({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    } finally {
      agent.destroy();
    }
  });

  it('says so for an output without a TLS certificate', () => {
    const sshHost = { ...identity, tlsCert: undefined, output: 'ssh_host node1' } as Identity;

    expect(() => createMtlsAgent(sshHost)).toThrow(IdentityFormatError);
    expect(() => createMtlsAgent(sshHost)).toThrow(/output ssh_host node1 .* has no tlscert/);
  });
});

describe('createMtlsDispatcher', () => {
  it('works with the global fetch', async () => {
    const dispatcher = createMtlsDispatcher(identity, { ca: appCa.certPem });
    try {
      // @types/node 20 types the global fetch with undici 6's Dispatcher; the run time accepts undici 7's.
      const answer = await fetch(app.url, { dispatcher } as unknown as RequestInit);

      expect(answer.status).toBe(200);
      expect(await answer.json()).toMatchObject({ ok: true, subject: { CN: 'bot-ci' } });
    } finally {
      await dispatcher.close();
    }
  });

  it('works with undici’s fetch, and refuses an untrusted server', async () => {
    const dispatcher = createMtlsDispatcher(identity, { ca: [appCa.certPem] });
    const untrusting = createMtlsDispatcher(identity);
    try {
      const answer = await undiciFetch(app.url, { dispatcher });
      expect(answer.status).toBe(200);
      await expect(undiciFetch(app.url, { dispatcher: untrusting })).rejects.toMatchObject({
        cause: { code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' },
      });
    } finally {
      await dispatcher.close();
      await untrusting.close();
    }
  });
});

describe('writeIdentityFiles with curl', () => {
  it('writes the key 0600 and the certificates 0644, and curl authenticates with them', async () => {
    const dir = path.join(work, 'billing');

    const written = await writeIdentityFiles(identity, dir);

    expect(written.dir).toBe(dir);
    expect(Object.keys(written.paths).sort()).toEqual(['key', 'tlscacerts', 'tlscert']);
    expect((await stat(path.join(dir, 'key'))).mode & 0o777).toBe(0o600);
    expect((await stat(path.join(dir, 'tlscert'))).mode & 0o777).toBe(0o644);
    expect((await stat(path.join(dir, 'tlscacerts'))).mode & 0o777).toBe(0o644);
    const curl = await runCommand('curl', [
      '--silent',
      '--show-error',
      '--fail',
      '--cacert',
      appCa.certPath,
      '--cert',
      written.paths['tlscert'] as string,
      '--key',
      written.paths['key'] as string,
      app.url,
    ]);
    expect(curl.code, curl.stderr).toBe(0);
    expect(JSON.parse(curl.stdout)).toMatchObject({ ok: true, subject: { CN: 'bot-ci' } });
  });
});
