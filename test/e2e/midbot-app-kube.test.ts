import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PeerCertificate } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BotApiClient } from '../../lib/bot/auth-client/bot-api-client.js';
import { discoverClusterTrust } from '../../lib/bot/auth-client/cluster-trust.js';
import { systemClock } from '../../lib/core/clock.js';
import {
  type AuthServerProcess,
  addBotWithMidctl,
  runMidbot,
  runMidctl,
  startAuthServerProcess,
  startMidbotProcess,
} from '../support/cli.js';
import { type KubeApiStandIn, startKubeApiStandIn } from '../support/kube-api-server.js';
import { runKubectl } from '../support/kubectl.js';
import { type MtlsAppServer, startMtlsAppServer } from '../support/mtls-app-server.js';
import { createOpensslCa, type OpensslCa } from '../support/openssl-ca.js';
import { runCommand } from '../support/run-command.js';

const CLUSTER = 'example.test';

/** The roles of the application and Kubernetes guides, verbatim. */
const ROLES = `kind: role
metadata:
  name: machine-id-app-role
version: v5
spec:
  allow:
    app_labels:
      '*': '*'
---
kind: role
metadata:
  name: machine-id-kube-role
version: v6
spec:
  allow:
    kubernetes_labels:
      '*': '*'
    kubernetes_resources:
      - kind: pod
        namespace: "*"
        name: "*"
    kubernetes_groups:
    - example
    kubernetes_users:
    - alice
---
kind: app
version: v3
metadata:
  name: grafana-example
spec:
  uri: http://127.0.0.1:3000
---
kind: app
version: v3
metadata:
  name: billing
spec:
  uri: http://127.0.0.1:3001
`;

/**
 * The application and Kubernetes guides with real tools: `curl` with the application output against an
 * mTLS app that checks the app identity in the certificate, and `kubectl` with the kubernetes output
 * (written from a v2 config, and from the guide's v1 `destinations:` config) against an API server
 * stand-in that trusts the cluster's client CA.
 */
describe('midbot application and kubernetes outputs', () => {
  let dir: string;
  let server: AuthServerProcess;
  let serverCa: OpensslCa;
  let app: MtlsAppServer;
  let kube: KubeApiStandIn;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'midbot-e2e-app-'));
    server = await startAuthServerProcess(join(dir, 'data'), ['--cluster-name', CLUSTER]);
    writeFileSync(join(dir, 'roles.yaml'), ROLES);
    expect(
      (await runMidctl(['--data-dir', server.dataDir, 'create', '-f', join(dir, 'roles.yaml')])).code,
    ).toBe(0);

    // The services trust the cluster's client CA, as a real app proxy and kube-apiserver would be told to.
    const trust = await discoverClusterTrust(server.url, [server.caPin], { publicTls: false });
    const client = new BotApiClient(server.url, trust.caPem, systemClock);
    const clientCaPem = (await client.ping()).ca.tls_user_ca_certs.join('');
    client.close();
    serverCa = await createOpensslCa(dir, 'Services CA');
    const serving = await serverCa.issue({
      commonName: 'localhost',
      usage: 'server',
      ipAddresses: ['127.0.0.1'],
    });
    app = await startMtlsAppServer({
      serverCertPem: serving.certPem,
      serverKeyPem: serving.keyPem,
      clientCaPem,
      appName: 'grafana-example',
      authorize: (certificate: PeerCertificate) =>
        (certificate.subjectaltname ?? '').split(', ').includes(`URI:mid://${CLUSTER}/apps/grafana-example`),
    });
    kube = await startKubeApiStandIn({
      serverCertPem: serving.certPem,
      serverKeyPem: serving.keyPem,
      clientCaPem,
      allowedGroups: ['example'],
      podNames: ['payments-api-7d9f'],
    });
    const clusterFile = join(dir, 'kube-cluster.yaml');
    writeFileSync(
      clusterFile,
      `kind: kube_cluster
version: v3
metadata:
  name: example-k8s-cluster
spec:
  api_server: ${kube.url}
  ca_cert: |
${serverCa.certPem
  .trim()
  .split('\n')
  .map((line) => `    ${line}`)
  .join('\n')}
`,
    );
    expect((await runMidctl(['--data-dir', server.dataDir, 'create', '-f', clusterFile])).code).toBe(0);
  });

  afterAll(async () => {
    await app?.stop();
    await kube?.stop();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const curl = (folder: string, cert = 'tlscert', key = 'key') =>
    runCommand('curl', [
      '--silent',
      '--show-error',
      '--write-out',
      '\n%{http_code}',
      '--cert',
      join(folder, cert),
      '--key',
      join(folder, key),
      '--cacert',
      serverCa.certPath,
      app.url,
    ]);

  const opensslVerify = (folder: string) =>
    runCommand('openssl', ['verify', '-CAfile', join(folder, 'tlscacerts'), join(folder, 'tlscert')]);

  it('writes application and kubernetes outputs that curl and kubectl use', async () => {
    const bot = await addBotWithMidctl(server.dataDir, 'example', [
      'machine-id-app-role',
      'machine-id-kube-role',
    ]);
    const grafana = join(dir, 'grafana');
    const billing = join(dir, 'billing');
    const kubeOut = join(dir, 'kube');
    const config = join(dir, 'tbot.yaml');
    writeFileSync(
      config,
      `version: v2
auth_server: "${server.url}"
onboarding:
  join_method: "token"
  token: "${bot.token}"
  ca_pins:
  - "${bot.caPin}"
storage:
  type: directory
  path: ${join(dir, 'bot-storage')}
outputs:
  - type: application
    destination:
      type: directory
      path: ${grafana}
    app_name: grafana-example
    specific_tls_naming: true
  - type: application
    destination:
      type: directory
      path: ${billing}
    app_name: billing
  - type: kubernetes
    roles: [machine-id-kube-role]
    destination:
      type: directory
      path: ${kubeOut}
    kubernetes_cluster: example-k8s-cluster
`,
    );
    const run = await runMidbot(['start', '--oneshot', '-c', config, '--certificate-ttl', '30m']);
    expect(run.stderr).toContain('Generated identity for app "grafana-example"');
    expect(run.stderr).toContain('Generated identity for Kubernetes cluster "example-k8s-cluster"');
    expect(run.code).toBe(0);

    const allowed = await curl(grafana);
    const lines = allowed.stdout.trim().split('\n');
    expect(lines.at(-1)).toBe('200');
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ ok: true, app: 'grafana-example' });
    // The specific_tls_naming copies work just the same.
    expect((await curl(grafana, 'tls.crt', 'tls.key')).stdout.trim().endsWith('200')).toBe(true);
    expect(readFileSync(join(grafana, 'tls.cas'), 'utf8')).toBe(
      readFileSync(join(grafana, 'tlscacerts'), 'utf8'),
    );
    // A certificate of the same cluster for another app is refused by the app.
    expect((await curl(billing)).stdout.trim().endsWith('403')).toBe(true);

    const pods = await runKubectl(['get', 'pods', '-n', 'demo'], {
      kubeconfigPath: join(kubeOut, 'kubeconfig.yaml'),
      cacheDir: join(dir, 'kube-cache'),
    });
    expect(pods.stderr).toBe('');
    expect(pods.stdout).toContain('payments-api-7d9f');
    expect(kube.requests.at(-1)).toMatchObject({ user: 'alice', status: 200 });

    for (const folder of [grafana, billing, kubeOut]) {
      const verified = await opensslVerify(folder);
      expect(verified.stdout).toContain(': OK');
    }
  });

  it("serves the app to plain curl through `midbot proxy app`, the application guide's local proxy", async () => {
    const bot = await addBotWithMidctl(server.dataDir, 'example-proxy', ['machine-id-app-role']);
    const out = join(dir, 'proxied');
    const config = join(dir, 'tbot-proxy.yaml');
    writeFileSync(
      config,
      `version: v2
auth_server: "${server.url}"
onboarding: {join_method: token, token: "${bot.token}", ca_pins: ["${bot.caPin}"]}
storage: {type: memory}
outputs:
  - type: application
    app_name: grafana-example
    destination: {type: directory, path: ${out}}
`,
    );
    const written = await runMidbot(['start', '--oneshot', '-c', config]);
    expect(written.code, written.stderr).toBe(0);

    // The guide's command, with --app-uri where it names the Teleport proxy.
    const proxy = startMidbotProcess([
      'proxy',
      `--destination-dir=${out}`,
      'app',
      `--app-uri=${app.url}`,
      `--app-ca=${serverCa.certPath}`,
      'grafana-example',
    ]);
    try {
      await proxy.waitForLog(/Proxying http:\/\/127\.0\.0\.1:\d+/);
      const url = /Proxying (http:\/\/127\.0\.0\.1:\d+)/.exec(proxy.logs())?.[1] ?? '';
      const answer = await runCommand('curl', [
        '--silent',
        '--show-error',
        '--write-out',
        '\n%{http_code}',
        `${url}/api/users`,
      ]);
      const lines = answer.stdout.trim().split('\n');
      expect(lines.at(-1)).toBe('200');
      expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({
        ok: true,
        app: 'grafana-example',
        subjectAltName: expect.stringContaining(`URI:mid://${CLUSTER}/apps/grafana-example`),
      });
      expect(app.requests.at(-1)).toMatchObject({ path: '/api/users', host: `127.0.0.1:${app.port}` });

      // A client that resets its connection while the app holds its upgrade unanswered: midbot stays up.
      const port = new URL(url).port;
      const socket = connect(Number(port), '127.0.0.1');
      await once(socket, 'connect');
      socket.write(
        `GET /hang HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n`,
      );
      await new Promise((resolve) => setTimeout(resolve, 300));
      socket.resetAndDestroy();
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(proxy.process.exitCode).toBeNull();
      const after = await runCommand('curl', [
        '--silent',
        '--write-out',
        '%{http_code}',
        '--output',
        '/dev/null',
        `${url}/after`,
      ]);
      expect(after.stdout).toBe('200');
    } finally {
      expect(await proxy.stop()).toBe(0);
    }

    // Copied from the guide as it is, --proxy gets what to do instead.
    const guide = await runMidbot([
      'proxy',
      `--destination-dir=${out}`,
      '--proxy=teleport.example.com:443',
      'app',
      '--port=1234',
      'grafana-example',
    ]);
    expect(guide.code).toBe(1);
    expect(guide.stderr).toContain('--proxy: got "teleport.example.com:443", midbot has no proxy service');
  });

  it("accepts the Kubernetes guide's v1 config, with its conversion warning", async () => {
    const bot = await addBotWithMidctl(server.dataDir, 'example-v1', ['machine-id-kube-role']);
    const out = join(dir, 'kube-v1');
    const config = join(dir, 'tbot-v1.yaml');
    writeFileSync(
      config,
      `auth_server: "${server.url.replace('https://', '')}"
onboarding:
  join_method: "token"
  token: "${bot.token}"
  ca_pins:
  - "${bot.caPin}"
storage:
  directory: ${join(dir, 'bot-v1-storage')}
destinations:
  - directory: ${out}
    kubernetes_cluster: example-k8s-cluster
`,
    );
    const run = await runMidbot(['start', '--oneshot', '-c', config]);
    expect(run.stderr).toContain('this file uses the v1 config shape (storage.directory, destinations)');
    expect(run.stderr).toContain('Generated identity for Kubernetes cluster "example-k8s-cluster"');
    expect(run.code).toBe(0);
    const pods = await runKubectl(['get', 'pods', '-n', 'demo'], {
      kubeconfigPath: join(out, 'kubeconfig.yaml'),
      cacheDir: join(dir, 'kube-cache-v1'),
    });
    expect(pods.stdout).toContain('payments-api-7d9f');
    expect((await opensslVerify(out)).stdout).toContain(': OK');
  });
});
