import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PeerCertificate } from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AppCredentialsFolder } from '../../../lib/bot/proxy/app-credentials.js';
import { type LocalAppProxy, startLocalAppProxy } from '../../../lib/bot/proxy/local-app-proxy.js';
import { positiveSerialHex } from '../../../lib/pki/x509-certificate.js';
import { type MtlsAppServer, startMtlsAppWithOwnCa } from '../../support/mtls-app-server.js';
import type { OpensslCa } from '../../support/openssl-ca.js';
import { until } from '../../support/until.js';
import {
  agentConfig,
  CLUSTER,
  type Cluster,
  captureLog,
  newAgent,
  startCluster,
} from '../agent/agent-fixture.js';

/**
 * `midbot proxy app` in-process: real application outputs written by the agent to a folder, a real
 * mTLS app that checks the app identity in the client certificate, and plain HTTP clients in front.
 */
describe('local app proxy', () => {
  let cluster: Cluster;
  let dir: string;
  let servicesCa: OpensslCa;
  let app: MtlsAppServer;
  let grafanaFolder: string;
  let identityFolder: string;
  let runAgent: () => Promise<unknown>;
  const proxies: LocalAppProxy[] = [];

  beforeAll(async () => {
    cluster = await startCluster();
    dir = mkdtempSync(join(tmpdir(), 'midbot-proxy-'));
    grafanaFolder = join(dir, 'grafana');
    identityFolder = join(dir, 'identity');
    const token = await cluster.addBot('proxied', ['apps']);
    const agent = newAgent(
      cluster,
      agentConfig(cluster, token, {
        outputs: [
          {
            type: 'application',
            app_name: 'grafana',
            destination: { type: 'directory', path: grafanaFolder },
          },
          { type: 'identity', destination: { type: 'directory', path: identityFolder } },
        ],
      }),
    );
    runAgent = () => agent.runOnce();
    await runAgent();
    ({ app, servicesCa } = await startMtlsAppWithOwnCa(dir, {
      clientCaPem: readFileSync(join(grafanaFolder, 'tlscacerts'), 'utf8'),
      appName: 'grafana',
      authorize: (certificate: PeerCertificate, request) =>
        (certificate.subjectaltname ?? '').split(', ').includes(`URI:mid://${CLUSTER}/apps/grafana`) &&
        request.headers['x-deny'] === undefined,
    }));
  });

  afterEach(async () => {
    await Promise.all(proxies.splice(0).map((proxy) => proxy.close()));
  });

  afterAll(async () => {
    await app?.stop();
    await cluster?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const startProxy = async (
    options: {
      folder?: string;
      appName?: string;
      appUri?: string;
      trustApp?: boolean;
      appCaPem?: string;
      idleTimeoutMs?: number;
    } = {},
  ) => {
    const log = captureLog();
    const proxy = await startLocalAppProxy({
      credentials: new AppCredentialsFolder(
        options.folder ?? grafanaFolder,
        options.appName ?? 'grafana',
        cluster.clock,
      ),
      appUri: new URL(options.appUri ?? app.url),
      ...(options.trustApp === false ? {} : { appCaPem: options.appCaPem ?? servicesCa.certPem }),
      ...(options.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: options.idleTimeoutMs }),
      logger: log.logger,
    });
    proxies.push(proxy);
    return { proxy, log };
  };

  it('sends requests on with the app certificate; the app sees its own host and the whole request', async () => {
    const { proxy } = await startProxy({ appUri: `${app.url}prefix/` });
    const before = app.requests.length;

    const answer = await fetch(`${proxy.url}/api/users?page=2`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'r-1' },
      body: JSON.stringify({ name: 'grafana-bot' }),
    });

    expect(answer.status).toBe(200);
    const body = (await answer.json()) as { subjectAltName: string };
    expect(body.subjectAltName).toContain(`URI:mid://${CLUSTER}/apps/grafana`);
    expect(app.requests.slice(before)).toEqual([
      expect.objectContaining({
        method: 'POST',
        path: '/prefix/api/users?page=2',
        host: `127.0.0.1:${app.port}`,
        body: '{"name":"grafana-bot"}',
        headers: expect.objectContaining({ 'x-request-id': 'r-1', 'content-type': 'application/json' }),
        status: 200,
      }),
    ]);
  });

  it('answers as the app does when the app refuses', async () => {
    const { proxy } = await startProxy();
    const answer = await fetch(`${proxy.url}/denied`, { headers: { 'x-deny': 'yes' } });
    expect(answer.status).toBe(403);
    expect(await answer.text()).toContain('not allowed');
  });

  it('uses the renewed certificate once midbot start has written it', async () => {
    const { proxy, log } = await startProxy();
    const first = (await (await fetch(`${proxy.url}/a`)).json()) as { serialNumber: string };
    await runAgent();
    const second = (await (await fetch(`${proxy.url}/b`)).json()) as { serialNumber: string };

    expect(second.serialNumber).not.toBe(first.serialNumber);
    expect(second.serialNumber.toLowerCase()).toBe(
      new AppCredentialsFolder(grafanaFolder, 'grafana', cluster.clock).current().serial,
    );
    expect(log.text()).toContain('Using the renewed certificate for app "grafana"');
  });

  it('keeps the last good certificate while a renewal is half written', async () => {
    const { proxy } = await startProxy();
    expect((await fetch(`${proxy.url}/before`)).status).toBe(200);
    const key = readFileSync(join(grafanaFolder, 'key'), 'utf8');
    try {
      // The identity output's key is a valid key, but not the key of the app's certificate.
      writeFileSync(join(grafanaFolder, 'key'), readFileSync(join(identityFolder, 'key'), 'utf8'));
      expect((await fetch(`${proxy.url}/between`)).status).toBe(200);
    } finally {
      writeFileSync(join(grafanaFolder, 'key'), key);
    }
  });

  it('refuses with 502 and the reason once the certificate has expired', async () => {
    const { proxy, log } = await startProxy();
    const expiresAt = new AppCredentialsFolder(grafanaFolder, 'grafana', cluster.clock).current().expiresAt;
    const now = cluster.clock.now();
    cluster.clock.set(expiresAt.getTime() + 1000);
    try {
      const answer = await fetch(`${proxy.url}/late`);
      expect(answer.status).toBe(502);
      const text = await answer.text();
      expect(text).toContain(`the certificate for app "grafana" in ${grafanaFolder} expired at`);
      expect(text).toContain('check that it is running');
      expect(log.text()).toContain('expired at');
    } finally {
      cluster.clock.set(now);
    }
  });

  it('says to give --app-ca when the app certificate is not trusted', async () => {
    const { proxy } = await startProxy({ trustApp: false });
    const answer = await fetch(`${proxy.url}/`);
    expect(answer.status).toBe(502);
    expect(await answer.text()).toMatch(
      /the app at https:\/\/127\.0\.0\.1:\d+ does not present a server certificate this proxy trusts \(.+\): give the CA that signed it with --app-ca FILE\n$/,
    );
  });

  it('says the app cannot be reached when nothing listens there', async () => {
    const { proxy } = await startProxy({ appUri: 'https://127.0.0.1:9/' });
    const answer = await fetch(`${proxy.url}/`);
    expect(answer.status).toBe(502);
    expect(await answer.text()).toContain('cannot be reached (ECONNREFUSED): check --app-uri');
  });

  it('asks whether the app trusts the cluster client CA when it drops the connection', async () => {
    mkdirSync(join(dir, 'other-app'));
    const other = await startMtlsAppWithOwnCa(join(dir, 'other-app'), { clientCaPem: servicesCa.certPem });
    try {
      const { proxy } = await startProxy({ appUri: other.app.url, appCaPem: other.servicesCa.certPem });
      const answer = await fetch(`${proxy.url}/`);
      expect(answer.status).toBe(502);
      expect(await answer.text()).toContain(
        "closed the connection without answering (ECONNRESET): does it trust the cluster's client CA (`midctl auth export --type tls-user`), and serve HTTPS at this address?",
      );
    } finally {
      await other.app.stop();
    }
  });

  it('gives up on an app that stays silent, answering 504', async () => {
    const { proxy } = await startProxy({ idleTimeoutMs: 300 });
    const answer = await fetch(`${proxy.url}/hang`);
    expect(answer.status).toBe(504);
    expect(await answer.text()).toContain(
      'sent nothing for 0.3 s after the request; the request was given up',
    );
  });

  it('closes the request to the app when the client gives up', async () => {
    await until(async () => (await app.connections()) === 0);
    const { proxy } = await startProxy();
    const request = fetch(`${proxy.url}/hang`, { signal: AbortSignal.timeout(300) });
    await until(async () => (await app.connections()) === 1);
    await expect(request).rejects.toThrow();
    await until(async () => (await app.connections()) === 0);
  });

  it('turns redirects to the app into redirects to the proxy', async () => {
    const { proxy } = await startProxy({ appUri: `${app.url}prefix` });
    const redirect = (to: string) =>
      fetch(`${proxy.url}/redirect?to=${encodeURIComponent(to)}`, { redirect: 'manual' }).then((answer) =>
        answer.headers.get('location'),
      );
    expect(await redirect(`${app.url}prefix/login?next=%2F`)).toBe(`${proxy.url}/login?next=%2F`);
    expect(await redirect('/prefix/a/b')).toBe('/a/b');
    expect(await redirect('relative/c')).toBe('relative/c');
    expect(await redirect('https://sso.example.com/login')).toBe('https://sso.example.com/login');
    expect(await redirect(`${app.url}elsewhere`)).toBe(`${app.url}elsewhere`);
  });

  it('answers on ::1 as well, where localhost resolves first', async () => {
    const { proxy } = await startProxy();
    if (!(await canListenOnIpv6Loopback())) {
      // A machine without IPv6 loopback: 127.0.0.1 alone, and nobody can take ::1 either.
      expect(proxy.addresses).toEqual([`127.0.0.1:${proxy.port}`]);
      return;
    }
    expect(proxy.addresses).toEqual([`127.0.0.1:${proxy.port}`, `[::1]:${proxy.port}`]);
    expect((await fetch(`http://[::1]:${proxy.port}/v6`)).status).toBe(200);
  });

  it('refuses a port another program holds, saying what to do', async () => {
    const { proxy } = await startProxy();
    await expect(
      startLocalAppProxy({
        credentials: new AppCredentialsFolder(grafanaFolder, 'grafana', cluster.clock),
        appUri: new URL(app.url),
        port: proxy.port,
        logger: captureLog().logger,
      }),
    ).rejects.toMatchObject({
      code: 'port_in_use',
      message: `--port ${proxy.port}: 127.0.0.1:${proxy.port} is in use by another program; choose another port, or leave --port out to take any free one`,
    });
  });

  it.each([
    [
      { host: 'rebind.attacker.example:PORT' },
      421,
      'Host "rebind.attacker.example:PORT" is not this proxy\'s address',
    ],
    [
      { origin: 'https://attacker.example' },
      403,
      'a request from the web page at https://attacker.example is refused',
    ],
    [
      { 'sec-fetch-site': 'cross-site' },
      403,
      'a request from a web page of another site (Sec-Fetch-Site: cross-site) is refused',
    ],
  ])('keeps web pages out: %j gets %i', async (headers, status, message) => {
    const { proxy } = await startProxy();
    const before = app.requests.length;
    const given = Object.fromEntries(
      Object.entries(headers).map(([name, value]) => [name, value.replace('PORT', String(proxy.port))]),
    );
    const answer = await raw(proxy.port, 'POST /api/admin HTTP/1.1', {
      host: `127.0.0.1:${proxy.port}`,
      ...given,
      'content-length': '0',
    });
    expect(answer).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect(answer).toContain(message.replace('PORT', String(proxy.port)));
    expect(app.requests.length).toBe(before);
  });

  it('lets the pages the proxy serves call it (same origin)', async () => {
    const { proxy } = await startProxy();
    const answer = await fetch(`${proxy.url}/api`, {
      method: 'POST',
      headers: { origin: `http://localhost:${proxy.port}`, 'sec-fetch-site': 'same-origin' },
    });
    expect(answer.status).toBe(200);
  });

  it('refuses a request target that is not a path', async () => {
    const { proxy } = await startProxy();
    const answer = await raw(proxy.port, 'GET http://evil.example/abs HTTP/1.1', {
      host: `127.0.0.1:${proxy.port}`,
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toContain('the request target "http://evil.example/abs" is not a path');
  });

  it('passes a connection upgrade through (WebSocket), quiet for longer than the answer limit, and close() ends it', async () => {
    const { proxy } = await startProxy({ idleTimeoutMs: 200 });
    const socket = connect(proxy.port, '127.0.0.1');
    await once(socket, 'connect');
    socket.write(
      `GET /echo HTTP/1.1\r\nHost: 127.0.0.1:${proxy.port}\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\nhello `,
    );
    let received = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => {
      received += chunk;
    });
    await until(() => received.includes('hello '));
    await new Promise((resolve) => setTimeout(resolve, 400));
    socket.write('world');
    await until(() => received.includes('hello world'));
    expect(received).toMatch(/^HTTP\/1\.1 101 Switching Protocols\r\n/);
    expect(received.toLowerCase()).toContain('upgrade: echo');

    await proxies.splice(proxies.indexOf(proxy), 1)[0]?.close();
    await until(() => socket.destroyed || socket.readableEnded);
    socket.destroy();
  });

  it("passes the app's refusal of an upgrade back, and sends h2c requests on as ordinary ones", async () => {
    const { proxy } = await startProxy();
    const host = `127.0.0.1:${proxy.port}`;
    const refused = await raw(proxy.port, 'GET /ws HTTP/1.1', {
      host,
      connection: 'Upgrade',
      upgrade: 'websocket',
    });
    expect(refused).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(refused.toLowerCase()).toContain('connection: close');

    const before = app.requests.length;
    const h2c = await raw(
      proxy.port,
      'POST /h2c HTTP/1.1',
      {
        host,
        connection: 'Upgrade, HTTP2-Settings',
        upgrade: 'h2c',
        'http2-settings': 'AAMAAABkAAQAoAAAAAIAAAAA',
        'content-length': '5',
      },
      'hel',
      'lo',
    );
    expect(h2c).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(JSON.parse(h2c.slice(h2c.indexOf('\r\n\r\n') + 4))).toMatchObject({ ok: true });
    expect(app.requests.slice(before)).toEqual([
      expect.objectContaining({ method: 'POST', path: '/h2c', body: 'hello' }),
    ]);
    expect(app.requests.at(-1)?.headers['upgrade']).toBeUndefined();
  });
});

async function canListenOnIpv6Loopback(): Promise<boolean> {
  const server = createServer();
  try {
    server.listen(0, '::1');
    await once(server, 'listening');
    return true;
  } catch {
    return false;
  } finally {
    server.close();
  }
}

/** One request written by hand on a new connection (its body parts after it, 30 ms apart), and all that came back until it closed. */
async function raw(
  port: number,
  requestLine: string,
  headers: Record<string, string>,
  ...laterBodyParts: string[]
): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const lines = [requestLine, ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`)];
  if (headers['connection'] === undefined) lines.push('connection: close');
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  for (const part of laterBodyParts) {
    await new Promise((resolve) => setTimeout(resolve, 30));
    socket.write(part);
  }
  let received = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => {
    received += chunk;
  });
  await once(socket, 'close');
  return received;
}

describe('an application output folder that cannot serve the app', () => {
  let cluster: Cluster;
  let dir: string;
  let folders: Record<'grafana' | 'identity', string>;

  beforeAll(async () => {
    cluster = await startCluster();
    dir = mkdtempSync(join(tmpdir(), 'midbot-proxy-folder-'));
    folders = { grafana: join(dir, 'grafana'), identity: join(dir, 'identity') };
    const token = await cluster.addBot('folders', ['apps']);
    await newAgent(
      cluster,
      agentConfig(cluster, token, {
        outputs: [
          {
            type: 'application',
            app_name: 'grafana',
            destination: { type: 'directory', path: folders.grafana },
          },
          { type: 'identity', destination: { type: 'directory', path: folders.identity } },
        ],
      }),
    ).runOnce();
  });

  afterAll(async () => {
    await cluster?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });

  const current =
    (folder: string, app = 'grafana') =>
    () =>
      new AppCredentialsFolder(folder, app, cluster.clock).current();

  it('reads the certificate of the app named', () => {
    const credential = current(folders.grafana)();
    // The serial as the certificate holds it (leading zero bytes dropped, as openssl shows it).
    const certificate = new X509Certificate(readFileSync(join(folders.grafana, 'tlscert')));
    expect(credential.serial).toBe(positiveSerialHex(certificate.serialNumber));
    expect(credential.expiresAt.getTime()).toBeGreaterThan(cluster.clock.now());
  });

  it('refuses the certificate of another app, naming it', () => {
    expect(current(folders.grafana, 'billing')).toThrow(
      `${folders.grafana} holds the certificate of app "grafana", not one for app "billing"; give the folder of an application output with app_name: billing`,
    );
  });

  it('refuses an identity output folder', () => {
    expect(current(folders.identity)).toThrow(
      'holds a certificate for no app (the folder of an identity or kubernetes output?), not one for app "grafana"',
    );
  });

  it('refuses a folder with nothing written yet, saying what writes it', () => {
    expect(current(join(dir, 'empty'))).toThrow(
      `${join(dir, 'empty', 'tlscert')}: no such file; run \`midbot start\` with an application output for app "grafana" writing to ${join(dir, 'empty')} first`,
    );
  });

  it('reads no certificate through a symlink', () => {
    const linked = join(dir, 'linked');
    mkdirSync(linked);
    symlinkSync(join(folders.grafana, 'tlscert'), join(linked, 'tlscert'));
    writeFileSync(join(linked, 'key'), readFileSync(join(folders.grafana, 'key')));
    expect(current(linked)).toThrow(
      `${join(linked, 'tlscert')}: is a symlink, which midbot never writes there (someone else put it there?); it is not read`,
    );
  });

  it('refuses a key that is not the key of the certificate', () => {
    const mixed = join(dir, 'mixed');
    mkdirSync(mixed);
    writeFileSync(join(mixed, 'tlscert'), readFileSync(join(folders.grafana, 'tlscert')));
    writeFileSync(join(mixed, 'key'), readFileSync(join(folders.identity, 'key')));
    expect(current(mixed)).toThrow(`${mixed}: key is not the key of tlscert`);
  });
});
