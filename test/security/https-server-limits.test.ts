import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../lib/api/routes.js';
import { ApiRouter } from '../../lib/auth/http/api-router.js';
import { BearerAdminAuthenticator } from '../../lib/auth/http/bearer-admin-authenticator.js';
import { type RunningHttpsServer, startHttpsServer } from '../../lib/auth/http/https-server.js';
import { MAX_BODY_BYTES } from '../../lib/auth/http/json-body.js';
import { type LocalAuthServer, startLocalAuthServer } from '../../lib/auth/local/local-auth-server.js';
import { localServerFiles } from '../../lib/auth/local/local-server-files.js';
import { MemoryBackend } from '../../lib/auth/storage/memory-backend.js';
import { ManualClock } from '../../lib/core/clock.js';
import { silentLogger } from '../../lib/core/logger.js';
import { privateKeyToPem } from '../../lib/pki/key-encoding.js';
import { generateKeyPair } from '../../lib/pki/signature-suite.js';
import { createFixture, newPublicKeyPem } from '../auth/auth-fixture.js';

/**
 * The "service" rows of the catalogue through the real HTTPS server (`lib/auth/http/https-server.ts`,
 * what `midctl auth start` serves): oversized and deeply nested bodies are refused with a clear answer
 * the client can read, and a join flood is bounded by the in-flight limit. The server keeps serving.
 */
interface Answer {
  status: number;
  body: string;
}

function send(
  url: string,
  ca: string,
  path: string,
  body: Buffer | Buffer[],
  options: { chunked?: boolean; method?: string } = {},
): Promise<Answer> {
  const parts = Array.isArray(body) ? body : [body];
  const length = parts.reduce((sum, part) => sum + part.length, 0);
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}${path}`,
      {
        method: options.method ?? 'POST',
        ca,
        agent: false,
        headers: {
          'content-type': 'application/json',
          ...(options.chunked ? { 'transfer-encoding': 'chunked' } : { 'content-length': String(length) }),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    for (const part of parts) req.write(part);
    req.end();
  });
}

const code = (answer: Answer) => (JSON.parse(answer.body) as { error: { code: string } }).error.code;

describe('the local HTTPS server', () => {
  let dir: string;
  let server: LocalAuthServer;
  let ca: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mid-security-https-'));
    server = await startLocalAuthServer({ dataDir: dir, port: 0, logger: silentLogger, iamJoin: false });
    ca = readFileSync(localServerFiles(dir).hostCa, 'utf8');
  });

  afterAll(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const ping = async () =>
    (await send(server.url, ca, ROUTES.ping, Buffer.alloc(0), { method: 'GET' })).status;

  it('answers 413 body_too_large to a body over the limit announced by content-length', async () => {
    const answer = await send(server.url, ca, ROUTES.join, Buffer.alloc(MAX_BODY_BYTES + 1, 0x20));
    expect(answer.status).toBe(413);
    expect(code(answer)).toBe('body_too_large');
    expect(await ping()).toBe(200);
    // A refused join is audited (sampled at one record a second under a flood).
    const events = await server.service.admin.events({ type: 'bot.join' });
    expect(events.some((event) => event.code === 'body_too_large' && event.outcome === 'failure')).toBe(true);
  });

  it('answers 413 to a chunked body that grows past the limit, without reading all of it', async () => {
    const chunks = Array.from({ length: 64 }, () => Buffer.alloc(16 * 1024, 0x20));
    const answer = await send(server.url, ca, ROUTES.join, chunks, { chunked: true });
    expect(answer.status).toBe(413);
    expect(code(answer)).toBe('body_too_large');
    expect(await ping()).toBe(200);
  });

  it('reads a body of exactly the limit (and refuses it for what it says, not for its size)', async () => {
    const text = `{"join_method":"token","token":"${'x'.repeat(MAX_BODY_BYTES - 40)}"}`;
    const body = Buffer.from(text.padEnd(MAX_BODY_BYTES, ' '));
    expect(body.length).toBe(MAX_BODY_BYTES);
    const answer = await send(server.url, ca, ROUTES.join, body);
    expect(answer.status).toBe(400);
    expect(code(answer)).toBe('invalid_body');
    expect(answer.body).not.toContain('xxxxxxxx');
  });

  it('refuses deeply nested JSON with 400 body_too_deep', async () => {
    const answer = await send(
      server.url,
      ca,
      ROUTES.join,
      Buffer.from(`${'['.repeat(10_000)}${']'.repeat(10_000)}`),
    );
    expect(answer.status).toBe(400);
    expect(code(answer)).toBe('body_too_deep');
    expect(await ping()).toBe(200);
  });
});

describe('a join flood over HTTPS', () => {
  let https: RunningHttpsServer | undefined;
  afterAll(async () => {
    await https?.close();
  });

  it('lets the joins within the limit through and answers the rest 429 at once, without touching storage', async () => {
    // Storage that holds every token lookup until released, so the first joins stay in flight while
    // the flood arrives: what a slow database under attack looks like.
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    // TLS checks the serving certificate against real time, so this cluster runs on it.
    const clock = new ManualClock(Date.now());
    const storage = new MemoryBackend(clock);
    const fixture = await createFixture(storage, clock);
    const tokens = await Promise.all(
      Array.from({ length: 24 }, (_, i) => fixture.addBot(`bot${i}`, ['ops'])),
    );
    let tokenLookups = 0;
    const get = storage.get.bind(storage);
    storage.get = async (key) => {
      if (key.startsWith('tokens/')) {
        tokenLookups += 1;
        await gate;
      }
      return get(key);
    };
    const cas = fixture.service.context.cas;
    const { privateKey, publicKey } = generateKeyPair(cas.suite, 'subject');
    const serving = fixture.service.context.issuer.issueServerCertificate({
      publicKey,
      dnsNames: ['localhost'],
      ipAddresses: ['127.0.0.1'],
      ttlMs: 3_600_000,
    });
    const router = new ApiRouter(fixture.service, {
      admin: new BearerAdminAuthenticator('a'.repeat(64)),
      maxConcurrentJoins: 4,
    });
    https = await startHttpsServer({
      router,
      certificateChainPem: serving.pem + cas.tlsHost.certificatePem,
      privateKeyPem: privateKeyToPem(privateKey),
      host: '127.0.0.1',
      port: 0,
      logger: silentLogger,
    });
    const url = https.url;
    const join = (token: string) =>
      send(
        url,
        cas.tlsHost.certificatePem,
        ROUTES.join,
        Buffer.from(JSON.stringify({ join_method: 'token', token, public_key: newPublicKeyPem() })),
      );

    const first = tokens.slice(0, 4).map(join);
    while (tokenLookups < 4) await new Promise((resolve) => setTimeout(resolve, 5));
    const flood = await Promise.all(tokens.slice(4).map(join));
    expect(flood.map((answer) => answer.status)).toEqual(Array(20).fill(429));
    expect(new Set(flood.map(code))).toEqual(new Set(['too_many_joins']));
    expect(tokenLookups).toBe(4);

    release();
    expect((await Promise.all(first)).map((answer) => answer.status)).toEqual([200, 200, 200, 200]);
    // The limit counts joins in flight, not joins ever: a refused bot retries and gets in.
    expect((await join(tokens[4] as string)).status).toBe(200);
  });
});
