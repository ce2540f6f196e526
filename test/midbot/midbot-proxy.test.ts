import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { proxyApp } from '../../lib/midbot/commands/proxy.js';
import { buildMidbotProgram, type MidbotCommands } from '../../lib/midbot/program.js';
import { agentConfig, type Cluster, newAgent, startCluster } from '../bot/agent/agent-fixture.js';
import { fakeMidbotIo } from '../support/fake-midbot-io.js';
import { type MtlsAppServer, startMtlsAppWithOwnCa } from '../support/mtls-app-server.js';
import type { OpensslCa } from '../support/openssl-ca.js';
import { until } from '../support/until.js';

let cluster: Cluster;
let work: string;
let grafana: string;
let servicesCa: OpensslCa;
let app: MtlsAppServer;

beforeAll(async () => {
  cluster = await startCluster();
  work = mkdtempSync(join(tmpdir(), 'midbot-proxy-cli-'));
  grafana = join(work, 'grafana');
  const token = await cluster.addBot('cli-proxy', ['apps']);
  await newAgent(
    cluster,
    agentConfig(cluster, token, {
      outputs: [
        { type: 'application', app_name: 'grafana', destination: { type: 'directory', path: grafana } },
      ],
    }),
  ).runOnce();
  ({ app, servicesCa } = await startMtlsAppWithOwnCa(work, {
    clientCaPem: readFileSync(join(grafana, 'tlscacerts'), 'utf8'),
    appName: 'grafana',
  }));
  writeFileSync(
    join(work, 'junk-ca.pem'),
    '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n',
  );
  writeFileSync(
    join(work, 'two-outputs.yaml'),
    `version: v2
auth_server: "${cluster.url}"
onboarding: {join_method: token}
storage: {type: directory, path: ${join(work, 'storage')}}
outputs:
  - {type: application, app_name: grafana, destination: {type: directory, path: /srv/a}}
  - {type: application, app_name: grafana, destination: {type: directory, path: /srv/b}}
`,
  );
});

afterAll(async () => {
  await app?.stop();
  await cluster?.dispose();
  rmSync(work, { recursive: true, force: true });
});

const fakeIo = () => fakeMidbotIo({ clock: cluster.clock, cwd: work });

const recorder = () => {
  const calls: unknown[] = [];
  const commands: Partial<MidbotCommands> = {
    start: async () => undefined,
    init: async () => '',
    proxyApp: async (options) => {
      calls.push(options);
    },
  };
  return { calls, commands };
};

describe('midbot proxy app: the command line', () => {
  it.each([
    [
      // The application guide's command, with --app-uri for its --proxy.
      [
        'proxy',
        '--destination-dir=/opt/machine-id',
        'app',
        '--port=1234',
        '--app-uri=https://grafana.internal',
        'grafana-example',
      ],
      {
        appName: 'grafana-example',
        destinationDir: '/opt/machine-id',
        port: '1234',
        appUri: 'https://grafana.internal',
        logFormat: 'text',
      },
    ],
    [
      ['proxy', 'app', 'grafana', '-c', 'tbot.yaml', '--app-ca', 'ca.pem', '--app-uri', 'https://g', '-d'],
      {
        appName: 'grafana',
        config: 'tbot.yaml',
        appCa: 'ca.pem',
        appUri: 'https://g',
        logFormat: 'text',
        debug: true,
      },
    ],
  ])('maps %j onto proxyApp', async (argv, expected) => {
    const { calls, commands } = recorder();
    await buildMidbotProgram(fakeIo(), commands).parseAsync(['node', 'midbot', ...argv]);
    expect(calls).toEqual([expected]);
  });

  it("refuses tbot's --proxy with what to do instead", async () => {
    const { calls, commands } = recorder();
    const argv = ['proxy', '--proxy=teleport.example.com:443', 'app', '--port=1234', 'grafana-example'];
    await expect(
      buildMidbotProgram(fakeIo(), commands).parseAsync(['node', 'midbot', ...argv]),
    ).rejects.toMatchObject({
      code: 'unsupported_flag',
      message:
        '--proxy: got "teleport.example.com:443", midbot has no proxy service: it connects to the app itself; drop --proxy and give the address the app serves on with --app-uri (its spec.uri)',
    });
    expect(calls).toEqual([]);
  });

  it.each([
    [['proxy']],
    [['proxy', '--destination-dir=/opt/m', '--port=1235', '--app-uri=https://g', 'grafana']],
  ])('says how to write it when app is left out: %j', async (argv) => {
    const { calls, commands } = recorder();
    await expect(
      buildMidbotProgram(fakeIo(), commands).parseAsync(['node', 'midbot', ...argv]),
    ).rejects.toMatchObject({
      code: 'invalid_usage',
      message:
        'midbot proxy needs what to serve: midbot proxy [--destination-dir DIR | -c FILE] app [--port N] --app-uri URL [--app-ca FILE] APP (the flags of app come after the word app)',
    });
    expect(calls).toEqual([]);
  });

  it("refuses tbot's --insecure with what to do instead", async () => {
    const { commands } = recorder();
    const argv = ['proxy', '--insecure', '--destination-dir=/opt/m', 'app', '--app-uri=https://g', 'grafana'];
    await expect(
      buildMidbotProgram(fakeIo(), commands).parseAsync(['node', 'midbot', ...argv]),
    ).rejects.toMatchObject({
      code: 'unsupported_flag',
      message:
        "--insecure: midbot proxy always checks the app's server certificate and has no insecure mode: give the CA that signed it with --app-ca FILE",
    });
  });

  it('needs an app name', async () => {
    const io = fakeIo();
    await expect(
      buildMidbotProgram(io, recorder().commands).parseAsync(['node', 'midbot', 'proxy', 'app']),
    ).rejects.toMatchObject({ exitCode: 1 });
    expect(io.logs).toEqual(["ERROR: missing required argument 'app-name' (run with --help for usage)"]);
  });
});

describe('midbot proxy app: the command', () => {
  const base = { appName: 'grafana', logFormat: 'text' as const };

  it('serves the app until SIGTERM, printing where', async () => {
    const io = fakeIo();
    const running = proxyApp(
      { ...base, destinationDir: 'grafana', appUri: app.url, appCa: servicesCa.certPath },
      io,
    );
    await until(() => io.stdout.length > 0);
    const url =
      /Proxying (http:\/\/127\.0\.0\.1:\d+)(?: \(and http:\/\/\[::1\]:\d+\))? to app "grafana" at https:\/\/127\.0\.0\.1:\d+\//.exec(
        io.stdout.join(''),
      )?.[1];
    expect(url).toBeDefined();
    const answer = await fetch(`${url}/health`);
    expect(answer.status).toBe(200);
    expect(await answer.json()).toMatchObject({ ok: true, app: 'grafana' });
    expect(io.logs.join('\n')).toContain(
      'Any program on this machine that can connect to the loopback address can use the app as the bot',
    );

    io.handlers.get('SIGTERM')?.();
    await running;
    expect(io.handlers.size).toBe(0);
    await expect(fetch(`${url}/health`)).rejects.toThrow();
  });

  it('finds the folder in the application output of -c', async () => {
    const config = join(work, 'tbot.yaml');
    writeFileSync(
      config,
      `version: v2
auth_server: "${cluster.url}"
onboarding: {join_method: token}
storage: {type: directory, path: ${join(work, 'storage')}}
outputs:
  - type: identity
    destination: {type: directory, path: ${join(work, 'identity')}}
  - type: application
    app_name: grafana
    destination: {type: directory, path: ${grafana}}
`,
    );
    const io = fakeIo();
    const running = proxyApp(
      { ...base, config: 'tbot.yaml', appUri: app.url, appCa: servicesCa.certPath },
      io,
    );
    await until(() => io.stdout.length > 0);
    expect(io.logs.join('\n')).toContain(`folder=${grafana}`);
    io.handlers.get('SIGINT')?.();
    await running;

    await expect(
      proxyApp({ ...base, appName: 'billing', config: 'tbot.yaml', appUri: app.url }, fakeIo()),
    ).rejects.toThrow(
      'tbot.yaml has no application output for app "billing" with a directory destination; add one (type: application, app_name: billing) or give --destination-dir',
    );
  });

  it.each([
    [
      { destinationDir: 'grafana' },
      '--app-uri is required: midbot has no proxy service in between and connects to the app itself; give the https address the app "grafana" serves on, its spec.uri (`midctl get app/grafana` shows it)',
    ],
    [
      { destinationDir: 'grafana', appUri: 'http://127.0.0.1:3000' },
      '--app-uri: got "http://127.0.0.1:3000", expected an https URL such as https://grafana.internal:3000',
    ],
    [
      { destinationDir: 'grafana', appUri: 'https://user:pw@grafana.internal/' },
      '--app-uri: got "https://user:pw@grafana.internal/", expected the app address alone: no user, query or fragment',
    ],
    [
      { destinationDir: 'grafana', appUri: 'https://g', port: '70000' },
      '--port: got "70000", expected a port number up to 65535',
    ],
    [
      { appUri: 'https://g' },
      '--destination-dir is required (or -c FILE with an application output for app "grafana"), e.g. --destination-dir=/opt/machine-id',
    ],
    [
      { destinationDir: 'grafana', appUri: 'https://g', appCa: 'nowhere.pem' },
      "--app-ca nowhere.pem: no such file; give the PEM file of the CA that signed the app's server certificate",
    ],
    [
      { destinationDir: 'grafana', appUri: 'https://g', appCa: 'junk-ca.pem' },
      "--app-ca junk-ca.pem: certificate 1 of 1 cannot be read; give the CA that signed the app's server certificate",
    ],
    [
      { config: 'two-outputs.yaml', appUri: 'https://g' },
      'two-outputs.yaml has 2 application outputs for app "grafana" (/srv/a, /srv/b); say which folder with --destination-dir',
    ],
    [
      { destinationDir: 'nowhere', appUri: 'https://g' },
      'nowhere/tlscert: no such file; run `midbot start` with an application output for app "grafana"',
    ],
  ])('refuses %j before listening', async (flags, message) => {
    const io = fakeIo();
    await expect(proxyApp({ ...base, ...flags }, io)).rejects.toThrow(message);
    expect(io.stdout).toEqual([]);
    expect(io.handlers.size).toBe(0);
  });
});
