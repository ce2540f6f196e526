import { X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { discoverClusterTrust } from '../../lib/bot/auth-client/cluster-trust.js';
import { caPin } from '../../lib/pki/ca-pin.js';
import { createOpensslCa, type OpensslCa, type PemPair } from '../support/openssl-ca.js';
import { runCommand } from '../support/run-command.js';

const CA_NAME = 'pinned.test host CA';

/**
 * SECURITY rule 11, CA pin: the pinned CA's certificate is public (every `/v1/ping` shows it), so an
 * impostor can put it in its own TLS chain. It can also copy the CA's name and key identifier into a
 * certificate of its own, so that the chain looks issued by the pinned CA. Only the signature cannot
 * be copied: the agent must refuse such a chain before sending anything, naming what it saw.
 */
describe('CA pin against an impostor whose chain carries the pinned CA certificate', () => {
  let dir: string;
  let cluster: OpensslCa;
  let lookalike: PemPair;
  let server: Server | undefined;
  const requests: string[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'mid-pin-chain-'));
    for (const name of ['cluster', 'impostor']) mkdirSync(join(dir, name));
    cluster = await createOpensslCa(join(dir, 'cluster'), CA_NAME);
    // The impostor's own CA, under the cluster CA's name and key identifier (both only labels).
    const impostor = await createOpensslCa(join(dir, 'impostor'), CA_NAME, {
      subjectKeyIdentifier: await subjectKeyIdentifier(cluster.certPath),
    });
    lookalike = await impostor.issue({
      commonName: '127.0.0.1',
      usage: 'server',
      ipAddresses: ['127.0.0.1'],
    });
  });

  afterEach(async () => {
    const running = server;
    server = undefined;
    requests.length = 0;
    if (running === undefined) return;
    running.closeAllConnections();
    await new Promise((done) => running.close(done));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function serve(leaf: PemPair): Promise<string> {
    server = createServer({ cert: leaf.certPem + cluster.certPem, key: leaf.keyPem }, (req, res) => {
      requests.push(`${req.method} ${req.url}`);
      res.end('{}');
    });
    await new Promise<void>((done) => server?.listen(0, '127.0.0.1', done));
    return `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  it('the lookalike certificate passes every check but the signature', () => {
    const leaf = new X509Certificate(lookalike.certPem);
    const ca = new X509Certificate(cluster.certPem);
    expect(leaf.checkIssued(ca)).toBe(true);
    expect(leaf.verify(ca.publicKey)).toBe(false);
  });

  it('refuses the chain before sending anything, saying the pinned CA did not sign the certificate', async () => {
    const url = await serve(lookalike);
    const refused = discoverClusterTrust(url, [caPin(cluster.certPem)], { publicTls: false });
    await expect(refused).rejects.toMatchObject({
      code: 'ca_pin_mismatch',
      message: expect.stringContaining(
        `presented the pinned CA ${caPin(cluster.certPem)} in its chain, but that CA did not sign`,
      ),
    });
    expect(requests).toEqual([]);
  });

  it('trusts the pinned CA when it did sign the certificate (the control)', async () => {
    const genuine = await cluster.issue({
      commonName: '127.0.0.1',
      usage: 'server',
      ipAddresses: ['127.0.0.1'],
    });
    const url = await serve(genuine);
    const trust = await discoverClusterTrust(url, [caPin(cluster.certPem)], { publicTls: false });
    expect(trust).toMatchObject({
      pin: caPin(cluster.certPem),
      caPem: cluster.certPem,
      publiclyTrusted: false,
    });
  });
});

/** The key identifier openssl put in a certificate, as `AB:CD:…`. */
async function subjectKeyIdentifier(certPath: string): Promise<string> {
  const result = await runCommand('openssl', [
    'x509',
    '-noout',
    '-ext',
    'subjectKeyIdentifier',
    '-in',
    certPath,
  ]);
  const hex = /([0-9A-F]{2}(?::[0-9A-F]{2})+)/.exec(result.stdout)?.[1];
  if (result.code !== 0 || hex === undefined)
    throw new Error(`no key identifier in ${certPath}: ${result.stderr}`);
  return hex;
}
