import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from '../../lib/api/api-client.js';
import { ROUTES } from '../../lib/api/routes.js';
import { publicKeyToPem } from '../../lib/pki/key-encoding.js';
import { generateKeyPair } from '../../lib/pki/signature-suite.js';
import { rate } from './stats.js';

async function startServer(dataDir: string): Promise<{ url: string; stop: () => void }> {
  // dist/midctl.mjs: this file runs bundled into dist/bench.mjs (`npm run bench`), next to it.
  const child = spawn(
    process.execPath,
    [
      join(import.meta.dirname, 'midctl.mjs'),
      '--data-dir',
      dataDir,
      'auth',
      'start',
      '--listen',
      '127.0.0.1:0',
      '--log-format',
      'json',
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let log = '';
  const collect = (chunk: string) => {
    log += chunk;
  };
  child.stderr?.setEncoding('utf8').on('data', collect);
  for (let waited = 0; !log.includes('auth service started'); waited += 50) {
    if (waited > 20_000 || child.exitCode !== null) throw new Error(`auth server did not start:\n${log}`);
    await new Promise((done) => setTimeout(done, 50));
  }
  // The service logs every audit event; past start-up, read and drop them so the client stays light.
  child.stderr?.off('data', collect).resume();
  const { url } = JSON.parse(readFileSync(join(dataDir, 'auth-server.json'), 'utf8')) as { url: string };
  return { url, stop: () => child.kill('SIGTERM') };
}

async function runConcurrently(
  total: number,
  concurrency: number,
  task: (index: number) => Promise<void>,
): Promise<number> {
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await task(next++);
    }),
  );
  return performance.now() - start;
}

/**
 * Token joins over loopback HTTPS against `midctl auth start` (a separate process, SQLite state), next to
 * plain `GET /v1/ping` round trips on the same connections.
 */
export async function benchJoins(): Promise<{ joins: number; pings: number }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'mid-bench-'));
  const server = await startServer(dataDir);
  try {
    const adminToken = readFileSync(join(dataDir, 'admin-token'), 'utf8').trim();
    const ca = readFileSync(join(dataDir, 'host-ca.pem'), 'utf8');
    const admin = new ApiClient({
      baseUrl: server.url,
      ca,
      authenticate: () => ({ authorization: `Bearer ${adminToken}` }),
    });
    await admin.call({
      method: 'PUT',
      path: ROUTES.adminResources,
      body: {
        resources: [
          { kind: 'role', version: 'v7', metadata: { name: 'ops' }, spec: { allow: { logins: ['root'] } } },
        ],
      },
    });
    await admin.call({ method: 'POST', path: ROUTES.adminBots, body: { name: 'bench', roles: ['ops'] } });
    const total = 3_000;
    const tokens: string[] = [];
    // Token-method tokens must expire; an hour covers the bench.
    const expires = new Date(Date.now() + 3_600_000).toISOString();
    for (let batch = 0; batch < total / 100; batch += 1) {
      const resources = Array.from({ length: 100 }, () => {
        const name = randomBytes(16).toString('hex');
        tokens.push(name);
        return {
          kind: 'token',
          version: 'v2',
          metadata: { name, expires },
          spec: { roles: ['Bot'], join_method: 'token', bot_name: 'bench' },
        };
      });
      await admin.call({ method: 'PUT', path: ROUTES.adminResources, body: { resources } });
    }
    admin.close();
    // Key generation is the agent's cost, not the service's: make the keys before the clock starts.
    const publicKeys = Array.from({ length: 64 }, () =>
      publicKeyToPem(generateKeyPair('balanced', 'subject').publicKey),
    );
    const client = new ApiClient({ baseUrl: server.url, ca });
    const concurrency = 32;
    const pingMs = await runConcurrently(total, concurrency, async () => {
      await client.call({ method: 'GET', path: ROUTES.ping });
    });
    const joinMs = await runConcurrently(total, concurrency, async (index) => {
      await client.call({
        method: 'POST',
        path: ROUTES.join,
        body: {
          join_method: 'token',
          token: tokens[index],
          public_key: publicKeys[index % publicKeys.length],
        },
      });
    });
    client.close();
    return { joins: rate(total, joinMs), pings: rate(total, pingMs) };
  } finally {
    server.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
