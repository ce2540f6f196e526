import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiClient } from '../../lib/api/api-client.js';
import { awsAdminSigner, regionOfExecuteApiHost } from '../../lib/midctl/aws-admin-signer.js';
import { AWS_TEST_CREDENTIALS } from '../support/aws-test-credentials.js';
import { verifySigV4 } from '../support/sigv4-verifier.js';

/** A stand-in for API Gateway's IAM authoriser: it verifies SigV4 for execute-api and echoes the verdict. */
describe('midctl --aws-iam request signing', () => {
  let server: Server;
  let url: string;
  const verdicts: Array<{ ok: boolean; region?: string; signedHeaders?: string[] }> = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const verdict = verifySigV4(
          {
            method: req.method ?? '',
            url: req.url ?? '/',
            rawHeaders: req.rawHeaders,
            body: Buffer.concat(chunks),
          },
          {
            service: 'execute-api',
            region: 'eu-west-1',
            now: Date.now(),
            lookup: (id) => (id === AWS_TEST_CREDENTIALS.accessKeyId ? AWS_TEST_CREDENTIALS : undefined),
          },
        );
        verdicts.push(
          verdict.ok
            ? { ok: true, region: verdict.region, signedHeaders: verdict.signedHeaders }
            : { ok: false },
        );
        res.writeHead(verdict.ok ? 200 : 403, { 'content-type': 'application/json' });
        res.end(
          verdict.ok
            ? '{"ok":true}'
            : JSON.stringify({ error: { code: 'forbidden', message: verdict.message } }),
        );
      });
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(() => new Promise<void>((done) => server.close(() => done())));

  it('signs GET with a query string and PUT with a body so that SigV4 verification passes', async () => {
    const client = new ApiClient({
      baseUrl: url,
      authenticate: awsAdminSigner({
        region: 'eu-west-1',
        credentials: async () => ({ ...AWS_TEST_CREDENTIALS }),
      }),
    });
    await expect(
      client.call({ method: 'GET', path: '/v1/admin/events', query: { limit: '5', type: 'bot.join' } }),
    ).resolves.toEqual({ ok: true });
    await expect(
      client.call({ method: 'PUT', path: '/v1/admin/resources', body: { resources: [{ kind: 'role' }] } }),
    ).resolves.toEqual({ ok: true });
    expect(verdicts.every((verdict) => verdict.ok && verdict.region === 'eu-west-1')).toBe(true);
    client.close();
  });

  it('is refused when signed with the wrong secret', async () => {
    const client = new ApiClient({
      baseUrl: url,
      authenticate: awsAdminSigner({
        region: 'eu-west-1',
        credentials: async () => ({ ...AWS_TEST_CREDENTIALS, secretAccessKey: 'not-the-secret' }),
      }),
    });
    await expect(client.call({ method: 'GET', path: '/v1/admin/status' })).rejects.toMatchObject({
      httpStatus: 403,
    });
    client.close();
  });

  it('reads the region from an execute-api host', () => {
    expect(regionOfExecuteApiHost('abc123.execute-api.eu-central-1.amazonaws.com')).toBe('eu-central-1');
    expect(regionOfExecuteApiHost('example.com')).toBeUndefined();
  });
});
