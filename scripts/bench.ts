/**
 * `npm run bench`: performance figures of the auth service, each next to a baseline measured in the
 * same run on the same machine, so that the ratios mean something anywhere.
 *
 * 1. Identity issuance in-process (one X.509 + one SSH certificate) vs the bare signing rate of the same
 *    CA keys (one ECDSA + one Ed25519 signature): the limit issuance can approach. Target ≥ 0.25×.
 * 2. Token joins per second over loopback HTTPS against `midctl auth start` (a separate process, SQLite
 *    state), next to plain `GET /v1/ping` round trips on the same connections. Target ≥ 1,000 joins/s.
 */
import { spawn } from 'node:child_process';
import { type KeyObject, randomBytes, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ApiClient } from '../lib/api/api-client.js';
import { ROUTES } from '../lib/api/routes.js';
import { CertificateAuthorities, generateCas } from '../lib/auth/certificate-authorities.js';
import { CertificateIssuer } from '../lib/auth/certificate-issuer.js';
import { systemClock } from '../lib/core/clock.js';
import { secureRandom } from '../lib/core/random.js';
import { publicKeyToPem } from '../lib/pki/key-encoding.js';
import { generateKeyPair } from '../lib/pki/signature-suite.js';
import { parseSubjectPublicKey } from '../lib/pki/subject-public-key.js';

function rate(count: number, ms: number): number {
  return (count * 1000) / ms;
}

function timeFor(durationMs: number, work: () => void): { count: number; ms: number } {
  const start = performance.now();
  let count = 0;
  while (performance.now() - start < durationMs) {
    work();
    count += 1;
  }
  return { count, ms: performance.now() - start };
}

function benchIssuance(): { issuance: number; bare: number; parse: number } {
  const cas = CertificateAuthorities.fromStored(
    generateCas('bench.test', 'balanced', systemClock, secureRandom),
  );
  const issuer = new CertificateIssuer(cas, systemClock, secureRandom);
  // Every identity is for another key: a pool of keys, as the service would have parsed them from requests.
  const pems = Array.from({ length: 64 }, () =>
    publicKeyToPem(generateKeyPair('balanced', 'subject').publicKey),
  );
  const subjects = pems.map((pem) => parseSubjectPublicKey(pem));
  let next = 0;
  const tbs = randomBytes(400);
  const validity = issuer.validity(3_600_000);
  const bare = timeFor(2_000, () => {
    sign('sha256', tbs, cas.tlsUser.privateKey);
    sign(null, tbs, cas.sshUser.privateKey);
  });
  const issuance = timeFor(2_000, () => {
    const subject = subjects[next++ % subjects.length] as KeyObject;
    issuer.issueClientCertificate({
      publicKey: subject,
      subject: { commonName: 'bot-bench', organization: ['ops'] },
      validity,
    });
    issuer.issueSshUserCertificate({
      publicKey: subject,
      keyId: 'bot-bench',
      principals: ['root'],
      validity,
    });
  });
  const parse = timeFor(1_000, () => parseSubjectPublicKey(pems[next++ % pems.length] as string));
  return {
    issuance: rate(issuance.count, issuance.ms),
    bare: rate(bare.count, bare.ms),
    parse: rate(parse.count, parse.ms),
  };
}

async function startServer(dataDir: string): Promise<{ url: string; stop: () => void }> {
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

async function benchJoins(): Promise<{ joins: number; pings: number }> {
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
    for (let batch = 0; batch < total / 100; batch += 1) {
      const resources = Array.from({ length: 100 }, () => {
        const name = randomBytes(16).toString('hex');
        tokens.push(name);
        return {
          kind: 'token',
          version: 'v2',
          metadata: { name },
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

const fmt = (value: number) => Math.round(value).toLocaleString('en-US');
const { issuance, bare, parse } = benchIssuance();
console.log('Identity issuance, in-process (X.509 + SSH certificate per identity)');
console.log(`  bare signing of the same keys (ECDSA P-256 + Ed25519): ${fmt(bare)} pairs/s  (the limit)`);
console.log(`  issuance (X.509 + SSH certificate for a parsed key):    ${fmt(issuance)} identities/s`);
console.log(
  `  ratio: ${(issuance / bare).toFixed(2)}× the bare limit  (target ≥ 0.25×) ${issuance / bare >= 0.25 ? 'OK' : 'BELOW TARGET'}`,
);
console.log(
  `  for reference, checking an agent's public key PEM (OpenSSL 3 key import): ${fmt(parse)} keys/s`,
);
const { joins, pings } = await benchJoins();
console.log('Token joins over loopback HTTPS (midctl auth start, SQLite, 32 concurrent keep-alive clients)');
console.log(`  GET /v1/ping round trips (baseline): ${fmt(pings)} /s`);
console.log(
  `  POST /v1/join with a fresh token:    ${fmt(joins)} joins/s  (${(joins / pings).toFixed(2)}× the ping rate; target ≥ 1,000 joins/s) ${joins >= 1000 ? 'OK' : 'BELOW TARGET'}`,
);
