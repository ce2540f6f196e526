import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { App, Stack } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MachineIdAuth } from '../../lib/infra/machine-id-auth.js';
import { MachineIdBot } from '../../lib/infra/machine-id-bot.js';
import { cdkContext } from './support.js';

// The one test that bundles for real (esbuild, no Docker), with stand-in handlers from fixtures/.
const FIXTURES = fileURLToPath(new URL('./fixtures/lambdas/', import.meta.url));

let outdir: string;
let assets: { auth: string; bot: string };

beforeAll(() => {
  outdir = mkdtempSync(path.join(tmpdir(), 'mid-cdk-'));
  const app = new App({
    context: { ...cdkContext(), 'aws:cdk:enable-asset-metadata': true, 'aws:cdk:enable-path-metadata': true },
    outdir,
  });
  const stack = new Stack(app, 'Bundled');
  const auth = new MachineIdAuth(stack, 'Auth', { entry: `${FIXTURES}auth.ts` });
  new MachineIdBot(stack, 'Bot', {
    auth,
    botName: 'ci',
    roles: ['access'],
    outputs: [{ name: 'ssh', type: 'identity' }],
    entry: `${FIXTURES}bot.ts`,
  });
  const assembly = app.synth();
  const resources = assembly.getStackByName('Bundled').template.Resources as Record<
    string,
    { Type: string; Metadata?: Record<string, string> }
  >;
  const assetOf = (pathPart: string) => {
    const fn = Object.values(resources).find(
      (resource) =>
        resource.Type === 'AWS::Lambda::Function' && resource.Metadata?.['aws:cdk:path']?.includes(pathPart),
    );
    return path.join(outdir, fn?.Metadata?.['aws:asset:path'] ?? 'missing');
  };
  assets = { auth: assetOf('Auth/Function/'), bot: assetOf('Bot/Function/') };
}, 60_000);

afterAll(() => {
  rmSync(outdir, { recursive: true, force: true });
});

describe('Lambda bundling', () => {
  it('bundles each handler with esbuild into one ESM file with a source map', () => {
    for (const asset of [assets.auth, assets.bot]) {
      expect(existsSync(path.join(asset, 'index.mjs')), asset).toBe(true);
      expect(existsSync(path.join(asset, 'index.mjs.map')), asset).toBe(true);
    }
  });

  it('keeps the native SQLite module out of the bundle', () => {
    const bundle = readFileSync(path.join(assets.auth, 'index.mjs'), 'utf8');
    expect(bundle).toMatch(/import\(\s*"better-sqlite3"\s*\)/);
    expect(bundle).not.toMatch(/sqlite3_open|better_sqlite3\.node/);
  });

  it('produces a bundle that Node loads and runs, CommonJS dependencies included', async () => {
    const module = (await import(pathToFileURL(path.join(assets.auth, 'index.mjs')).href)) as {
      handler: (event: unknown) => Promise<Record<string, unknown>>;
    };
    expect(await module.handler({})).toEqual({
      ping: '/v1/ping',
      sha256: createHash('sha256').update('mid').digest('hex'),
    });
  });
});
