import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_STS_MAX_RESPONSE_BYTES,
  HttpStsClient,
  parseStsEndpointOverride,
} from '../../../lib/auth/iam/http-sts-client.js';
import { iamJoinMethod } from '../../../lib/auth/iam/iam-join-method.js';
import { ConfigError } from '../../../lib/core/errors.js';

describe('the STS endpoint override for tests', () => {
  it.each([
    'http://127.0.0.1:4566',
    'http://127.9.9.9:1',
    'http://localhost:8080',
    'http://[::1]:9000',
    'https://127.0.0.1:443/',
  ])('accepts the loopback URL %s', (url) => {
    expect(() => new HttpStsClient({ stsEndpointOverrideForTests: url })).not.toThrow();
  });

  it.each([
    ['a public host', 'https://sts.example.com'],
    ['a private address', 'http://10.0.0.1:80'],
    ['the metadata address', 'http://169.254.169.254'],
    ['an unspecified address', 'http://0.0.0.0:4566'],
    ['a name that merely starts with localhost', 'http://localhost.evil.example:80'],
    ['a path', 'http://127.0.0.1:4566/sts'],
    ['user information', 'http://user@127.0.0.1:4566'],
    ['another scheme', 'ftp://127.0.0.1'],
    ['not a URL', '127.0.0.1:4566'],
  ])('refuses %s', (_what, url) => {
    expect(() => parseStsEndpointOverride(url)).toThrow(ConfigError);
    expect(() => iamJoinMethod({ stsEndpointOverrideForTests: url })).toThrow(
      /invalid_sts_endpoint_override|loopback|bare|not a URL/,
    );
  });
});

describe('reading an STS answer without Content-Length', () => {
  /** A server that streams chunks of `x` for as long as the client listens (Transfer-Encoding: chunked). */
  async function endlessServer(): Promise<{ url: string; sent: () => number; close: () => Promise<void> }> {
    let sent = 0;
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/xml' });
      const chunk = Buffer.alloc(4096, 'x');
      const pump = () => {
        while (!res.destroyed && res.write(chunk)) sent += chunk.length;
        if (!res.destroyed) res.once('drain', pump);
      };
      res.on('close', () => res.destroy());
      pump();
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      sent: () => sent,
      close: () =>
        new Promise<void>((done) => {
          server.closeAllConnections();
          server.close(() => done());
        }),
    };
  }

  it('stops at the size cap of an answer that never ends, long before the deadline', async () => {
    const server = await endlessServer();
    try {
      const client = new HttpStsClient({ stsEndpointOverrideForTests: server.url, timeoutMs: 10_000 });
      const started = performance.now();
      const error = await client
        .send({
          host: 'sts.us-east-1.amazonaws.com',
          headers: [['host', 'sts.us-east-1.amazonaws.com']],
          body: 'Action=GetCallerIdentity&Version=2011-06-15',
        })
        .then(
          (): { code?: string } => ({}),
          (caught: unknown) => caught as { code?: string },
        );
      expect(error.code).toBe('sts_response_too_large');
      expect(performance.now() - started).toBeLessThan(5_000);
    } finally {
      await server.close();
    }
  });

  /** A server that answers `size()` bytes of `x` in 4 KiB chunks (Transfer-Encoding: chunked), then ends. */
  async function chunkedServer(size: () => number): Promise<{ url: string; close: () => Promise<void> }> {
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/xml' });
      const body = Buffer.alloc(size(), 'x');
      for (let at = 0; at < body.length; at += 4096) res.write(body.subarray(at, at + 4096));
      res.end();
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    return {
      url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      close: () =>
        new Promise<void>((done) => {
          server.closeAllConnections();
          server.close(() => done());
        }),
    };
  }

  it('refuses an answer that ends one byte over the size cap, and reads one exactly at it', async () => {
    let size = DEFAULT_STS_MAX_RESPONSE_BYTES + 1;
    const server = await chunkedServer(() => size);
    try {
      const client = new HttpStsClient({ stsEndpointOverrideForTests: server.url });
      const send = () =>
        client.send({
          host: 'sts.us-east-1.amazonaws.com',
          headers: [['host', 'sts.us-east-1.amazonaws.com']],
          body: 'Action=GetCallerIdentity&Version=2011-06-15',
        });
      await expect(send()).rejects.toMatchObject({ code: 'sts_response_too_large' });
      size = DEFAULT_STS_MAX_RESPONSE_BYTES;
      const answer = await send();
      expect(answer.status).toBe(200);
      expect(answer.body).toHaveLength(DEFAULT_STS_MAX_RESPONSE_BYTES);
      client.close();
    } finally {
      await server.close();
    }
  });
});

describe('connections to STS', () => {
  const REQUEST = {
    host: 'sts.us-east-1.amazonaws.com',
    headers: [['host', 'sts.us-east-1.amazonaws.com']] as Array<[string, string]>,
    body: 'Action=GetCallerIdentity&Version=2011-06-15',
  };

  /**
   * An STS stand-in that answers 200, except that `drop(n, reused)` may close the connection instead of
   * answering the n-th request (counted from 1; `reused`: not the first request on its connection), as
   * STS does to a connection it has timed out while the caller's Lambda was frozen.
   */
  async function stsStandIn(drop: (n: number, reused: boolean) => boolean = () => false) {
    let requests = 0;
    let connections = 0;
    const seen = new WeakSet<object>();
    const server = createServer((req, res) => {
      requests += 1;
      const reused = seen.has(req.socket);
      seen.add(req.socket);
      if (drop(requests, reused)) {
        req.socket.destroy();
        return;
      }
      req.resume().on('end', () => {
        res.writeHead(200, { 'content-type': 'text/xml' });
        res.end('<GetCallerIdentityResponse/>');
      });
    });
    server.on('connection', () => {
      connections += 1;
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    return {
      client: new HttpStsClient({
        stsEndpointOverrideForTests: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      }),
      requests: () => requests,
      connections: () => connections,
      close: () =>
        new Promise<void>((done) => {
          server.closeAllConnections();
          server.close(() => done());
        }),
    };
  }

  const outcome = (promise: Promise<{ status: number }>) =>
    promise.then(
      (answer) => `answered ${answer.status}`,
      (error: { code?: string }) => `failed ${error.code}`,
    );

  it('keeps one connection open for the joins of a warm Lambda', async () => {
    const sts = await stsStandIn();
    try {
      for (let join = 0; join < 3; join += 1)
        expect(await outcome(sts.client.send(REQUEST))).toBe('answered 200');
      expect([sts.requests(), sts.connections()]).toEqual([3, 1]);
    } finally {
      await sts.close();
    }
  });

  it('sends again, once, on a new connection when the kept one turns out to be closed', async () => {
    const sts = await stsStandIn((_n, reused) => reused);
    try {
      expect(await outcome(sts.client.send(REQUEST))).toBe('answered 200');
      expect(await outcome(sts.client.send(REQUEST))).toBe('answered 200');
      // The second call: refused on the kept connection, answered on a new one.
      expect([sts.requests(), sts.connections()]).toEqual([3, 2]);
    } finally {
      await sts.close();
    }
  });

  it('does not send again when the retry fails too', async () => {
    const sts = await stsStandIn((n) => n > 1);
    try {
      expect(await outcome(sts.client.send(REQUEST))).toBe('answered 200');
      expect(await outcome(sts.client.send(REQUEST))).toBe('failed sts_unreachable');
      expect([sts.requests(), sts.connections()]).toEqual([3, 2]);
    } finally {
      await sts.close();
    }
  });

  it('does not send again when a new connection fails: STS itself is in trouble', async () => {
    const sts = await stsStandIn(() => true);
    try {
      expect(await outcome(sts.client.send(REQUEST))).toBe('failed sts_unreachable');
      expect([sts.requests(), sts.connections()]).toEqual([1, 1]);
    } finally {
      await sts.close();
    }
  });
});
