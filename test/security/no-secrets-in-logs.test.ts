import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, request as httpsRequest, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { loadOrCreateCas } from '../../lib/auth/certificate-authorities.js';
import { CertificateIssuer } from '../../lib/auth/certificate-issuer.js';
import { FileCaStore } from '../../lib/auth/file-ca-store.js';
import { localServerFiles } from '../../lib/auth/local/local-server-files.js';
import { systemClock } from '../../lib/core/clock.js';
import { secureRandom } from '../../lib/core/random.js';
import { privateKeyToPem } from '../../lib/pki/key-encoding.js';
import { generateKeyPair } from '../../lib/pki/signature-suite.js';
import { type AuthServerProcess, runMidbot, runMidctl, startAuthServerProcess } from '../support/cli.js';
import type { CommandResult } from '../support/run-command.js';
import {
  type SecretsManagerEmulator,
  startSecretsManagerEmulator,
} from '../support/secrets-manager-emulator.js';
import { type StsEmulator, startStsEmulator } from '../support/sts-emulator.js';

/**
 * SECURITY rule 10, second half: no secret ever appears in a log. A representative flow runs with the
 * real processes and the real Lambda handler — `midctl auth start`, `midctl create` and `bots add`,
 * `midbot` joining with a token, renewing from its storage, refused with a wrong token, joining with
 * iam through the STS emulator, and a scheduled run of the bot Lambda writing Secrets Manager — and
 * every line they print (and the audit log) is checked against the exact secret values of the run:
 * join tokens, the admin credential, AWS secret keys and session tokens, the SigV4 Authorization values
 * STS received, the bot signature headers the auth service received, and every private key on disk.
 *
 * The bot calls' signatures are seen by a recording HTTPS proxy in front of the auth service: it
 * serves a certificate from the cluster's host CA, so the agents' CA pin holds and nothing else changes.
 */
const ACCOUNT = '123456789012';
const CI = {
  accessKeyId: 'ASIALOGSCANCI0000001',
  secretAccessKey: `ci-secret-${randomBytes(12).toString('hex')}`,
  sessionToken: `ci-session-${randomBytes(24).toString('base64url')}`,
  arn: `arn:aws:sts::${ACCOUNT}:assumed-role/ci-role/ci-job-1`,
  account: ACCOUNT,
  userId: 'AROACIROLE7777777777:ci-job-1',
};
const LAMBDA = {
  accessKeyId: 'ASIALOGSCANLAMBDA001',
  secretAccessKey: `lambda-secret-${randomBytes(12).toString('hex')}`,
  sessionToken: `lambda-session-${randomBytes(24).toString('base64url')}`,
  arn: `arn:aws:sts::${ACCOUNT}:assumed-role/lambda-role/machine-id-bot-lambda`,
  account: ACCOUNT,
  userId: 'AROALAMBDAROLE777777:machine-id-bot-lambda',
};

interface Recorded {
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

/** Forwards HTTPS to the auth service, keeping a copy of every request. */
async function startRecordingProxy(
  dataDir: string,
  target: string,
  seen: Recorded[],
): Promise<{ url: string; server: Server }> {
  const cas = await loadOrCreateCas(new FileCaStore(dataDir), {
    clusterName: 'example.test',
    suite: 'balanced',
    clock: systemClock,
    random: secureRandom,
  });
  const { privateKey, publicKey } = generateKeyPair(cas.suite, 'subject');
  const serving = new CertificateIssuer(cas, systemClock, secureRandom).issueServerCertificate({
    publicKey,
    dnsNames: ['localhost'],
    ipAddresses: ['127.0.0.1'],
    ttlMs: 3_600_000,
  });
  const ca = cas.tlsHost.certificatePem;
  const server = createServer({ cert: serving.pem + ca, key: privateKeyToPem(privateKey) }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      seen.push({ headers: req.headers, body: body.toString('utf8') });
      const upstream = httpsRequest(
        `${target}${req.url ?? '/'}`,
        { method: req.method, headers: { ...req.headers, host: new URL(target).host }, ca, agent: false },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      upstream.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** The distinctive parts of a PEM private key: its base64 lines (a leak of any one of them counts). */
function privateKeyLines(text: string): string[] {
  const keys =
    text.match(/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g) ?? [];
  return keys.flatMap((pem) => pem.split(/\\n|\n/).filter((line) => /^[A-Za-z0-9+/=]{40,}$/.test(line)));
}

describe('secrets in the logs of an end-to-end run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mid-security-logs-'));
  const dataDir = join(dir, 'data');
  const saved = { ...process.env };
  let sts: StsEmulator | undefined;
  let sm: SecretsManagerEmulator | undefined;
  let server: AuthServerProcess | undefined;
  let proxy: Server | undefined;

  afterAll(async () => {
    process.env = saved;
    vi.restoreAllMocks();
    await server?.stop();
    proxy?.closeAllConnections();
    proxy?.close();
    await sts?.stop();
    await sm?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('never prints a token, key, signature, credential or session token', async () => {
    /** Everything printed, each with where it came from. */
    const printed: Array<{ source: string; text: string }> = [];
    const secrets = new Map<string, string>();
    const keep = (source: string, result: CommandResult) => {
      printed.push(
        { source: `${source} (stderr)`, text: result.stderr },
        { source: `${source} (stdout)`, text: result.stdout },
      );
      return result;
    };

    sts = await startStsEmulator({ identities: [CI, LAMBDA] });
    sm = await startSecretsManagerEmulator({
      acceptAnyCredentials: true,
      region: 'us-east-1',
      accountId: ACCOUNT,
    });
    server = await startAuthServerProcess(dataDir, [
      '--cluster-name',
      'example.test',
      '--insecure-sts-endpoint-for-tests',
      sts.url,
    ]);
    const seen: Recorded[] = [];
    const recording = await startRecordingProxy(dataDir, server.url, seen);
    proxy = recording.server;
    const authServer = recording.url;
    const midctl = (args: string[]) =>
      runMidctl(['--data-dir', dataDir, '--auth-server', authServer, ...args]);

    writeFileSync(
      join(dir, 'resources.yaml'),
      `kind: role
version: v7
metadata: {name: ops}
spec: {allow: {logins: [root]}}
---
kind: token
version: v2
metadata: {name: ci-iam}
spec:
  roles: [Bot]
  join_method: iam
  bot_name: ci
  allow: [{aws_account: "${ACCOUNT}", aws_arn: "arn:aws:sts::${ACCOUNT}:assumed-role/ci-role/*"}]
---
kind: token
version: v2
metadata: {name: lambda-iam}
spec:
  roles: [Bot]
  join_method: iam
  bot_name: lambda
  allow: [{aws_account: "${ACCOUNT}", aws_arn: "arn:aws:sts::${ACCOUNT}:assumed-role/lambda-role/*"}]
`,
    );
    expect(keep('midctl create', await midctl(['create', '-f', join(dir, 'resources.yaml')])).code).toBe(0);
    // `bots add` prints the new token by design: its stdout is the operator's copy, not a log.
    const added = await midctl(['bots', 'add', 'robot', '--roles=ops', '--format', 'json']);
    printed.push({ source: 'midctl bots add (stderr)', text: added.stderr });
    const { token, ca_pin: pin } = JSON.parse(added.stdout) as { token: string; ca_pin: string };
    secrets.set('join token', token);
    for (const name of ['ci', 'lambda']) {
      expect(
        keep(
          `midctl bots add ${name}`,
          await midctl(['bots', 'add', name, '--roles=ops', `--token=${name}-iam`]),
        ).code,
      ).toBe(0);
    }

    const midbot = (name: string, args: string[], env: Record<string, string> = {}) =>
      runMidbot(['start', '--oneshot', '--debug', '--auth-server', authServer, '--ca-pin', pin, ...args], {
        env,
      }).then((result) => keep(name, result));
    const storage = join(dir, 'robot-storage');
    const robot = ['--token', token, '--data-dir', storage, '--destination-dir', join(dir, 'robot-out')];
    expect((await midbot('midbot join', robot)).code).toBe(0);
    expect((await midbot('midbot renewal', robot)).code).toBe(0);
    const wrong = randomBytes(16).toString('hex');
    secrets.set('wrong join token', wrong);
    const refused = await midbot('midbot wrong token', [
      '--token',
      wrong,
      '--destination-dir',
      join(dir, 'wrong-out'),
    ]);
    expect(refused.code).toBe(1);
    const iam = await midbot(
      'midbot iam',
      ['--join-method', 'iam', '--token', 'ci-iam', '--destination-dir', join(dir, 'ci-out')],
      {
        AWS_REGION: 'us-east-1',
        AWS_ACCESS_KEY_ID: CI.accessKeyId,
        AWS_SECRET_ACCESS_KEY: CI.secretAccessKey,
        AWS_SESSION_TOKEN: CI.sessionToken,
        AWS_EC2_METADATA_DISABLED: 'true',
      },
    );
    expect(iam.code, iam.stderr).toBe(0);

    // A scheduled run of the real bot Lambda handler, in this process, its output captured.
    Object.assign(process.env, {
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: LAMBDA.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LAMBDA.secretAccessKey,
      AWS_SESSION_TOKEN: LAMBDA.sessionToken,
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.url,
      AWS_LAMBDA_FUNCTION_NAME: 'machine-id-bot-lambda',
      MID_BOT_CONFIG: `version: v2
auth_server: ${authServer}
onboarding: {join_method: iam, token: lambda-iam, ca_path: ${localServerFiles(dataDir).hostCa}}
storage: {type: memory}
outputs:
  - type: identity
    destination: {type: aws_secrets_manager, name: machine-id/lambda/identity}
`,
    });
    const lambdaOutput: string[] = [];
    const capture = (chunk: unknown) => {
      lambdaOutput.push(String(chunk));
      return true;
    };
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
    const log = vi.spyOn(console, 'log').mockImplementation(capture);
    try {
      const { handler } = (await import('../../lambdas/bot.js')) as {
        handler: (event: unknown) => Promise<unknown>;
      };
      await expect(handler({ source: 'aws.scheduler' })).resolves.toMatchObject({ bot: 'lambda' });
    } finally {
      stderr.mockRestore();
      stdout.mockRestore();
      log.mockRestore();
    }
    printed.push({ source: 'bot Lambda', text: lambdaOutput.join('') });
    expect(lambdaOutput.join('')).toContain('SecondsUntilExpiry');

    const events = await midctl(['events', 'ls', '--limit', '1000', '--format', 'json']);
    keep('the audit log (midctl events ls)', events);
    await server.stop();
    printed.push({ source: 'midctl auth start', text: server.logs() });

    // The secrets of the run, as exact values.
    secrets.set('admin credential', readFileSync(localServerFiles(dataDir).adminToken, 'utf8').trim());
    for (const who of [CI, LAMBDA]) {
      secrets.set(`${who.accessKeyId} secret key`, who.secretAccessKey);
      secrets.set(`${who.accessKeyId} session token`, who.sessionToken);
    }
    for (const request of sts.requests) {
      const authorization = String(request.headers['authorization'] ?? '');
      secrets.set(
        `SigV4 Authorization sent to STS (${request.headers['x-amz-security-token']?.slice(0, 6)})`,
        authorization,
      );
      secrets.set(
        'SigV4 signature sent to STS',
        /Signature=([0-9a-f]{64})/.exec(authorization)?.[1] ?? authorization,
      );
    }
    expect(sts.requests.length).toBe(2);
    for (const [i, request] of seen.entries()) {
      const signature = request.headers['x-mid-signature'];
      if (typeof signature === 'string') secrets.set(`bot signature #${i}`, signature);
      const authorization = request.headers['authorization'];
      if (typeof authorization === 'string') secrets.set(`Authorization header #${i}`, authorization);
    }
    expect([...secrets.keys()].filter((name) => name.startsWith('bot signature')).length).toBeGreaterThan(6);
    const keyFiles = [dir]
      .flatMap(filesUnder)
      .filter((file) => readFileSync(file, 'utf8').includes('PRIVATE KEY'));
    expect(keyFiles.length).toBeGreaterThan(5);
    for (const file of keyFiles) {
      for (const [i, line] of privateKeyLines(readFileSync(file, 'utf8')).entries())
        secrets.set(`${file} line ${i}`, line);
    }
    for (const version of sm.secrets.get('machine-id/lambda/identity')?.versions ?? []) {
      for (const [i, line] of privateKeyLines(version.secretString ?? '').entries())
        secrets.set(`Lambda secret key line ${i}`, line);
    }

    expect(printed.map((entry) => entry.text).join('').length).toBeGreaterThan(5_000);
    const leaks: string[] = [];
    for (const { source, text } of printed) {
      if (/PRIVATE KEY/.test(text)) leaks.push(`${source}: a PEM private key marker`);
      for (const [name, value] of secrets) {
        if (value.length >= 8 && text.includes(value)) leaks.push(`${source}: the ${name}`);
      }
    }
    expect(leaks).toEqual([]);
  });
});
