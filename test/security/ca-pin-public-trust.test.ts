import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROUTES } from '../../lib/api/routes.js';
import { localServerFiles } from '../../lib/auth/local/local-server-files.js';
import { caPin } from '../../lib/pki/ca-pin.js';
import {
  type AuthServerProcess,
  addBotWithMidctl,
  runMidbot,
  runMidctl,
  startAuthServerProcess,
} from '../support/cli.js';
import { createOpensslCa, type OpensslCa } from '../support/openssl-ca.js';

const ROLE = `kind: role
version: v7
metadata: {name: reader}
spec: {allow: {logins: [nobody]}}
`;

/**
 * SECURITY rule 11, CA pin: a pinned agent must not take a publicly trusted certificate for its
 * cluster. The impostor holds a certificate from a CA the agent's machine trusts (the stand-in for any
 * public CA: midbot runs as a process with it in NODE_EXTRA_CA_CERTS) and replays the real cluster's
 * `/v1/ping`, which anyone can read. Only `onboarding.public_tls` lets a public certificate stand in
 * for the pinned CA, and then the public PKI is what authenticates the service.
 */
describe('CA pin against a publicly trusted impostor', () => {
  let dir: string;
  let server: AuthServerProcess;
  let publicRoot: OpensslCa;
  let impostor: Server;
  let impostorUrl: string;
  const impostorSaw: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mid-pin-public-'));
    server = await startAuthServerProcess(join(dir, 'data'), ['--cluster-name', 'pinned.test']);
    writeFileSync(join(dir, 'role.yaml'), ROLE);
    expect(
      (await runMidctl(['--data-dir', server.dataDir, 'create', '-f', join(dir, 'role.yaml')])).code,
    ).toBe(0);
    const realPing = await getText(`${server.url}${ROUTES.ping}`, readFileSync(hostCaPath(), 'utf8'));
    publicRoot = await createOpensslCa(dir, 'Some Public Root');
    const leaf = await publicRoot.issue({
      commonName: '127.0.0.1',
      usage: 'server',
      ipAddresses: ['127.0.0.1'],
    });
    impostor = createServer({ cert: leaf.certPem + publicRoot.certPem, key: leaf.keyPem }, (req, res) => {
      impostorSaw.push(`${req.method} ${req.url}`);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(realPing);
    });
    await new Promise<void>((done) => impostor.listen(0, '127.0.0.1', done));
    impostorUrl = `https://127.0.0.1:${(impostor.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    impostor?.closeAllConnections();
    await new Promise((done) => impostor?.close(done));
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const hostCaPath = () => localServerFiles(server.dataDir).hostCa;

  function config(name: string, authServer: string, onboarding: string): string {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(
      file,
      `version: v2
auth_server: "${authServer}"
onboarding:
${onboarding}
storage:
  type: directory
  path: ${join(dir, `${name}-storage`)}
outputs:
  - type: identity
    destination:
      type: directory
      path: ${join(dir, `${name}-out`)}
`,
    );
    return file;
  }

  it('refuses the impostor before sending it anything, and the token still joins the real cluster', async () => {
    const bot = await addBotWithMidctl(server.dataDir, 'pinned', ['reader']);
    const refused = await runMidbot(
      [
        'start',
        '--oneshot',
        '-c',
        config(
          'pinned',
          impostorUrl,
          `  join_method: token\n  token: "${bot.token}"\n  ca_pins: ["${bot.caPin}"]`,
        ),
      ],
      { env: { NODE_EXTRA_CA_CERTS: publicRoot.certPath } },
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('presented a publicly trusted certificate');
    expect(refused.stderr).toContain('a pinned cluster must present its pinned CA');
    expect(impostorSaw).toEqual([]);
    expect(refused.stderr).not.toContain(bot.token);

    const joined = await runMidbot([
      'start',
      '--oneshot',
      '-c',
      config(
        'pinned-real',
        server.url,
        `  join_method: token\n  token: "${bot.token}"\n  ca_pins: ["${bot.caPin}"]`,
      ),
    ]);
    expect(joined.stderr).toContain('Joined the cluster as bot "pinned"');
    expect(joined.code).toBe(0);
  });

  it('with public_tls, joins a service whose certificate verifies against the system roots', async () => {
    const bot = await addBotWithMidctl(server.dataDir, 'public', ['reader']);
    // The local server's certificate "publicly trusted": its CA among the process's roots.
    const joined = await runMidbot(
      [
        'start',
        '--oneshot',
        '-c',
        config('public', server.url, `  join_method: token\n  token: "${bot.token}"\n  public_tls: true`),
      ],
      { env: { NODE_EXTRA_CA_CERTS: hostCaPath() } },
    );
    expect(joined.stderr).toContain('Joined the cluster as bot "public"');
    expect(joined.code).toBe(0);
  });

  it('with public_tls and pins, refuses a publicly trusted service that reports none of the pinned CAs', async () => {
    const bot = await addBotWithMidctl(server.dataDir, 'otherpin', ['reader']);
    const otherPin = caPin(publicRoot.certPem);
    expect(otherPin).not.toBe(bot.caPin);
    const refused = await runMidbot(
      [
        'start',
        '--oneshot',
        '-c',
        config(
          'otherpin',
          server.url,
          `  join_method: token\n  token: "${bot.token}"\n  ca_pins: ["${otherPin}"]\n  public_tls: true`,
        ),
      ],
      { env: { NODE_EXTRA_CA_CERTS: hostCaPath() } },
    );
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(`which matches none of the configured ca_pins (${otherPin})`);
    expect(refused.stderr).not.toContain('Joined the cluster');
    expect(refused.stderr).not.toContain(bot.token);
  });

  it('with public_tls and no pins, refuses a certificate the system roots do not verify', async () => {
    const bot = await addBotWithMidctl(server.dataDir, 'untrusted', ['reader']);
    const refused = await runMidbot([
      'start',
      '--oneshot',
      '-c',
      config('untrusted', server.url, `  join_method: token\n  token: "${bot.token}"\n  public_tls: true`),
    ]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("does not verify against the system's roots");
    expect(refused.stderr).not.toContain('ca_pins ()');
  });
});

function getText(url: string, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve(Buffer.concat(chunks).toString()));
    });
    req.on('error', reject);
    req.end();
  });
}
