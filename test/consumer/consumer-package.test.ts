import { cp, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_TEST_CREDENTIALS } from '../support/aws-test-credentials.js';
import type { MtlsAppServer } from '../support/mtls-app-server.js';
import type { OpensslCa } from '../support/openssl-ca.js';
import { runCommand } from '../support/run-command.js';
import {
  type SecretsManagerEmulator,
  startSecretsManagerEmulator,
} from '../support/secrets-manager-emulator.js';
import { type BillingApp, MINUTE, startBillingApp, writeIdentitySecret } from './identity-secret.js';

// The consumer package, built as `npm run build` builds it, installed into a project of its own that
// has only the package's declared dependencies: it must load, type-check and work from there.

const REPOSITORY = path.resolve(import.meta.dirname, '../..');
const SECRET = 'midbot/ci/billing';
/** What a service that reads a secret should never have to install. */
const HEAVY = ['aws-cdk-lib', 'constructs', 'better-sqlite3', 'commander', 'yaml', 'node-forge'];

interface Manifest {
  readonly name: string;
  readonly exports: Record<string, unknown>;
  readonly dependencies: Record<string, string>;
}

let work: string;
let packageDir: string;
let project: string;
let manifest: Manifest;
let rootManifest: { name: string; dependencies: Record<string, string> };
let sm: SecretsManagerEmulator;
let userCa: OpensslCa;
let appCa: OpensslCa;
let app: MtlsAppServer;

async function node(args: string[], cwd: string, env: Record<string, string> = {}) {
  return runCommand(process.execPath, args, { cwd, env: { ...process.env, ...env }, timeoutMs: 120_000 });
}

async function nodeOrThrow(args: string[], cwd: string): Promise<void> {
  const result = await node(args, cwd);
  if (result.code !== 0) throw new Error(`node ${args.join(' ')} failed: ${result.stdout}${result.stderr}`);
}

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'mid-consumer-package-'));
  packageDir = path.join(work, 'package');
  const types = path.join(work, 'types');
  const tsc = path.join(REPOSITORY, 'node_modules/typescript/bin/tsc');
  await nodeOrThrow([tsc, '-p', 'tsconfig.consumer.json', '--outDir', types], REPOSITORY);
  // A declaration an earlier build left behind, which no shipped declaration imports.
  await writeFile(path.join(types, 'lib', 'left-behind.d.ts'), 'export declare const stale: true;\n');
  // A type tsc can only name inline, as import("…"): its file must ship too.
  await writeFile(
    path.join(types, 'lib', 'consumer', 'inline-only.d.ts'),
    'export interface InlineOnly {\n  readonly x: string;\n}\n',
  );
  const entry = path.join(types, 'lib', 'consumer', 'index.d.ts');
  await writeFile(
    entry,
    `${await readFile(entry, 'utf8')}export declare const inlineOnly: import("./inline-only.js").InlineOnly;\n`,
  );
  await nodeOrThrow(
    ['scripts/build-consumer-package.mjs', '--types', types, '--out', packageDir],
    REPOSITORY,
  );
  manifest = JSON.parse(await readFile(path.join(packageDir, 'package.json'), 'utf8')) as Manifest;
  rootManifest = JSON.parse(await readFile(path.join(REPOSITORY, 'package.json'), 'utf8'));

  // The consuming project: the package copied in as npm installs it, each declared dependency linked
  // from this repository's node_modules, and nothing else (plus Node's types for the type check).
  project = path.join(work, 'project');
  const modules = path.join(project, 'node_modules');
  await cp(packageDir, path.join(modules, manifest.name), { recursive: true });
  for (const name of [...Object.keys(manifest.dependencies), '@types/node']) {
    await mkdir(path.dirname(path.join(modules, name)), { recursive: true });
    await symlink(path.join(REPOSITORY, 'node_modules', name), path.join(modules, name), 'dir');
  }
  await writeFile(
    path.join(project, 'package.json'),
    JSON.stringify({ name: 'billing-client', type: 'module' }),
  );

  let bot: BillingApp['bot'];
  ({ userCa, appCa, app, bot } = await startBillingApp(work));
  sm = await startSecretsManagerEmulator();
  const client = new SecretsManagerClient({
    region: sm.region,
    endpoint: sm.url,
    credentials: { ...AWS_TEST_CREDENTIALS },
  });
  try {
    await writeIdentitySecret(
      client,
      SECRET,
      { tlscert: bot.certPem, key: bot.keyPem, tlscacerts: userCa.certPem },
      { issuedAt: Date.now() - MINUTE, serial: 'serial-1' },
    );
  } finally {
    client.destroy();
  }
}, 180_000);

afterAll(async () => {
  await sm?.stop();
  await app?.stop();
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the consumer package', () => {
  it('is imported as serverless-machine-id/consumer, like the library in this repository', () => {
    expect(manifest.name).toBe(rootManifest.name);
    expect(Object.keys(manifest.exports)).toContain('./consumer');
  });

  it('ships the declarations the library’s own reach, not whatever else the types folder holds', async () => {
    const shipped = await readdir(path.join(packageDir, 'types'), { recursive: true });
    expect(shipped).toContain(path.join('lib', 'consumer', 'index.d.ts'));
    expect(shipped).not.toContain(path.join('lib', 'left-behind.d.ts'));
    expect(shipped).toContain(path.join('lib', 'consumer', 'inline-only.d.ts'));
  });

  it('depends on what the library imports, at this repository’s versions, and on nothing heavy', () => {
    expect(Object.keys(manifest.dependencies)).toContain('@aws-sdk/client-secrets-manager');
    for (const [name, version] of Object.entries(manifest.dependencies)) {
      expect(rootManifest.dependencies[name], name).toBe(version);
    }
    for (const name of HEAVY) expect(manifest.dependencies, name).not.toHaveProperty(name);
  });

  it('loads a secret with the SDK’s default client and calls an mTLS app, installed with its dependencies alone', async () => {
    await writeFile(
      path.join(project, 'call-billing.mjs'),
      `import https from 'node:https';
import { createMtlsAgent, loadIdentity } from 'serverless-machine-id/consumer';
const identity = await loadIdentity({ secretId: process.env.SECRET_ID });
const agent = createMtlsAgent(identity, { ca: process.env.APP_CA });
https.get(process.env.APP_URL, { agent }, (res) => {
  let body = '';
  res.setEncoding('utf8').on('data', (chunk) => { body += chunk; });
  res.on('end', () => { console.log(JSON.stringify({ status: res.statusCode, body, output: identity.output })); agent.destroy(); });
});
`,
    );

    const result = await node(['call-billing.mjs'], project, {
      SECRET_ID: SECRET,
      APP_URL: app.url,
      APP_CA: appCa.certPem,
      AWS_REGION: sm.region,
      AWS_ENDPOINT_URL_SECRETS_MANAGER: sm.url,
      AWS_ACCESS_KEY_ID: AWS_TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: AWS_TEST_CREDENTIALS.secretAccessKey,
      AWS_EC2_METADATA_DISABLED: 'true',
    });

    expect(result.stderr).not.toMatch(/ERR_MODULE_NOT_FOUND|Cannot find/);
    const printed = JSON.parse(result.stdout.trim().split('\n').at(-1) ?? '') as {
      status: number;
      body: string;
      output: string;
    };
    expect(printed).toMatchObject({ status: 200, output: 'application grafana' });
    expect(JSON.parse(printed.body)).toMatchObject({ ok: true, app: 'billing', subject: { CN: 'bot-ci' } });
  });

  it('type-checks a TypeScript consumer against the declarations it ships', async () => {
    await writeFile(
      path.join(project, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'es2022',
          strict: true,
          noEmit: true,
          skipLibCheck: false,
          types: ['node'],
        },
        include: ['typed.ts'],
      }),
    );
    await writeFile(
      path.join(project, 'typed.ts'),
      `import { type Identity, IdentityExpiredError, loadIdentity } from 'serverless-machine-id/consumer';
export async function expiry(secretId: string): Promise<Date> {
  const identity: Identity = await loadIdentity({ secretId });
  return identity.expiresAt;
}
export const isExpired = (error: unknown): boolean => error instanceof IdentityExpiredError;
// A wrong use must fail the check, or the declarations are not being read at all.
// @ts-expect-error: secretId is required
void loadIdentity({});
`,
    );

    const result = await node([path.join(REPOSITORY, 'node_modules/typescript/bin/tsc'), '-p', '.'], project);

    expect(result.stdout + result.stderr).toBe('');
    // A whole tsc run over the SDK's declarations: 15–20 s alone, twice that on a machine running
    // the rest of the suite beside it.
  }, 90_000);
});
