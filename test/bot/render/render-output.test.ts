import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { DirectoryDestination } from '../../../lib/bot/destinations/directory-destination.js';
import { artifactNames } from '../../../lib/bot/render/artifact-names.js';
import { renderOutput } from '../../../lib/bot/render/render-output.js';
import { MidError } from '../../../lib/core/errors.js';
import { runCommand } from '../../support/run-command.js';
import { makeOutputFixture, type OutputFixture, tool } from '../support/output-fixture.js';

let work: string;
let fx: OutputFixture;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'midbot-render-'));
  fx = await makeOutputFixture(work, {
    cluster: 'example.test',
    nodes: [
      { name: 'n1', hostname: 'node1', addr: '10.0.0.5:2222' },
      { name: 'n2', hostname: 'node2', addr: 'node2.internal' },
    ],
  });
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function writeOutput(name: string, files: ReturnType<typeof renderOutput>): Promise<string> {
  const dir = path.join(work, name);
  await new DirectoryDestination(dir).write(files);
  return dir;
}

const byName = (files: ReturnType<typeof renderOutput>) => new Map(files.map((f) => [f.name, f]));

describe('identity output', () => {
  it("writes tbot's nine files, keys secret", async () => {
    const dir = path.join(work, 'identity-names');
    const files = renderOutput('identity', fx.response('identity'), fx.keys, { artifactDir: dir });
    expect(files.map((f) => f.name).sort()).toEqual(
      [
        'identity',
        'key',
        'key.pub',
        'key-cert.pub',
        'tlscert',
        'tlscacerts',
        'sshcacerts',
        'known_hosts',
        'ssh_config',
      ].sort(),
    );
    expect(files.filter((f) => f.secret).map((f) => f.name)).toEqual(['identity', 'key']);
  });

  it('writes an SSH certificate, key and public key that ssh-keygen accepts as one pair', async () => {
    const dir = path.join(work, 'identity-ssh');
    await writeOutput(
      'identity-ssh',
      renderOutput('identity', fx.response('identity'), fx.keys, { artifactDir: dir }),
    );

    const listing = await tool('ssh-keygen', ['-L', '-f', path.join(dir, 'key-cert.pub')]);
    expect(listing).toMatch(/Type: ecdsa-sha2-nistp256-cert-v01@openssh.com user certificate/);
    expect(listing).toMatch(/Principals:\s+root/);

    const derived = (await tool('ssh-keygen', ['-y', '-f', path.join(dir, 'key')])).trim();
    expect(derived).toBe((await readFile(path.join(dir, 'key.pub'), 'utf8')).trim());

    expect((await stat(path.join(dir, 'key'))).mode & 0o777).toBe(0o600);
    expect((await stat(path.join(dir, 'key-cert.pub'))).mode & 0o777).toBe(0o644);
  });

  it('writes a TLS certificate that openssl verifies against tlscacerts', async () => {
    const dir = await writeOutput(
      'identity-tls',
      renderOutput('identity', fx.response('identity'), fx.keys, {
        artifactDir: path.join(work, 'identity-tls'),
      }),
    );
    const result = await runCommand('openssl', [
      'verify',
      '-CAfile',
      path.join(dir, 'tlscacerts'),
      path.join(dir, 'tlscert'),
    ]);
    expect(result.stdout).toContain(': OK');
    expect(result.code).toBe(0);
  });

  it('writes an ssh_config that OpenSSH resolves to the node, with our key, certificate and known_hosts', async () => {
    const dir = path.join(work, 'identity with space');
    await new DirectoryDestination(dir).write(
      renderOutput('identity', fx.response('identity'), fx.keys, { artifactDir: dir }),
    );
    const resolved = await tool('ssh', ['-G', '-F', path.join(dir, 'ssh_config'), 'root@node1.example.test']);
    const option = (name: string) =>
      resolved
        .split('\n')
        .filter((line) => line.startsWith(`${name} `))
        .map((line) => line.slice(name.length + 1));
    expect(option('hostname')).toEqual(['10.0.0.5']);
    expect(option('port')).toEqual(['2222']);
    expect(option('hostkeyalias')).toEqual(['node1.example.test']);
    expect(option('user')).toEqual(['root']);
    expect(option('identityfile')).toEqual([path.join(dir, 'key')]);
    expect(option('certificatefile')).toEqual([path.join(dir, 'key-cert.pub')]);
    expect(option('userknownhostsfile')).toEqual([path.join(dir, 'known_hosts')]);
    expect(option('identitiesonly')).toEqual(['yes']);
    expect(option('stricthostkeychecking')).toEqual(['true']);
    expect(option('hostkeyalgorithms')[0]).toMatch(
      /^ssh-ed25519-cert-v01@openssh.com,ecdsa-sha2-nistp256-cert/,
    );

    // A node the auth service did not list still gets the cluster-wide settings, dialled by its name.
    const other = await tool('ssh', ['-G', '-F', path.join(dir, 'ssh_config'), 'root@db7.example.test']);
    expect(other).toContain('hostname db7.example.test\n');
    expect(other).toContain(`certificatefile ${path.join(dir, 'key-cert.pub')}\n`);
  });

  it('trusts the SSH host CA in known_hosts for the cluster, the node names and addresses', async () => {
    const files = byName(
      renderOutput('identity', fx.response('identity'), fx.keys, { artifactDir: path.join(work, 'kh') }),
    );
    const knownHosts = String(files.get('known_hosts')?.data);
    const [type, blob] = fx.sshHostCaPub.split(' ');
    expect(knownHosts).toBe(
      `@cert-authority *.example.test,node1,10.0.0.5,[10.0.0.5]:2222,node2,node2.internal ${type} ${blob} type=host\n`,
    );
    const dir = await writeOutput('kh', [...files.values()]);
    // ssh-keygen -F finds the CA line for a host under the wildcard: OpenSSH parses the line.
    const found = await runCommand('ssh-keygen', [
      '-F',
      'node9.example.test',
      '-f',
      path.join(dir, 'known_hosts'),
    ]);
    expect(found.stdout).toContain('@cert-authority');
  });

  it('writes the SSH user CA as cert-authority lines in sshcacerts', () => {
    const files = byName(
      renderOutput('identity', fx.response('identity'), fx.keys, { artifactDir: '/opt/x' }),
    );
    const [type, blob] = fx.sshUserCaPub.split(' ');
    expect(files.get('sshcacerts')?.data).toBe(
      `cert-authority ${type} ${blob} clustername=example.test&type=user\n`,
    );
  });

  it("lays out the identity file as Teleport's parser expects: key, SSH cert, TLS cert, CA lines, TLS CAs", () => {
    const files = byName(
      renderOutput('identity', fx.response('identity'), fx.keys, { artifactDir: '/opt/x' }),
    );
    const identity = String(files.get('identity')?.data);
    const blocks = identity.match(/-----BEGIN [A-Z ]+-----/g);
    expect(blocks).toEqual([
      '-----BEGIN PRIVATE KEY-----',
      '-----BEGIN CERTIFICATE-----',
      '-----BEGIN CERTIFICATE-----',
      '-----BEGIN CERTIFICATE-----',
    ]);
    expect(identity.startsWith(fx.keys.privateKeyPem)).toBe(true);
    const lines = identity.split('\n');
    const keyEnd = lines.indexOf('-----END PRIVATE KEY-----');
    expect(lines[keyEnd + 1]).toBe(fx.sshUserCert);
    const caLine = lines.findIndex((line) => line.startsWith('@cert-authority '));
    const firstCert = lines.indexOf('-----BEGIN CERTIFICATE-----');
    const lastCert = lines.lastIndexOf('-----BEGIN CERTIFICATE-----');
    expect(firstCert).toBeLessThan(caLine);
    expect(caLine).toBeLessThan(lastCert);
    expect(identity).toContain(fx.tlsCertPem.trim());
    expect(identity).toContain(fx.tlsHostCa.certPem.trim());
    expect(identity).toContain(fx.tlsUserCa.certPem.trim());
  });

  it('quotes the folder in ssh_config and escapes OpenSSH % tokens', async () => {
    const dir = path.join(work, '100% bots');
    await new DirectoryDestination(dir).write(
      renderOutput('identity', fx.response('identity'), fx.keys, { artifactDir: dir }),
    );
    const config = await readFile(path.join(dir, 'ssh_config'), 'utf8');
    expect(config).toContain(`IdentityFile "${work}/100%% bots/key"`);
    const resolved = await tool('ssh', ['-G', '-F', path.join(dir, 'ssh_config'), 'root@node1.example.test']);
    // -G prints UserKnownHostsFile expanded; IdentityFile and CertificateFile are expanded when loaded
    // (the end-to-end test logs in through such a folder).
    expect(resolved).toContain(`userknownhostsfile ${dir}/known_hosts\n`);
    expect(resolved).toContain(`identityfile ${work}/100%% bots/key\n`);
  });

  it('refuses a node name that would inject lines into ssh_config', () => {
    const response = fx.response('identity', {
      ssh: {
        logins: ['root'],
        nodes: [{ name: 'x', hostname: 'evil\n    ProxyCommand sh', addr: '10.0.0.1' }],
      },
    });
    expect(() => renderOutput('identity', response, fx.keys, { artifactDir: '/opt/x' })).toThrow(
      /cannot be written safely into ssh_config/,
    );
  });

  it('refuses an answer for another kind of output, or one without its certificates', () => {
    expect(() =>
      renderOutput('identity', fx.response('application'), fx.keys, { artifactDir: '/x' }),
    ).toThrow(/asked for a identity output but the auth service answered for a application output/);
    const noSsh = fx.response('identity', { ssh_cert: undefined });
    try {
      renderOutput('identity', noSsh, fx.keys, { artifactDir: '/x' });
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(MidError);
      expect((error as MidError).code).toBe('incomplete_output_response');
    }
  });

  it('needs the folder the files will be read from', () => {
    expect(() => renderOutput('identity', fx.response('identity'), fx.keys)).toThrow(/artifact|folder/);
  });
});

describe('application output', () => {
  it('writes tlscert, key and tlscacerts that openssl accepts', async () => {
    const files = renderOutput('application', fx.response('application'), fx.keys);
    expect(files.map((f) => f.name)).toEqual(['tlscert', 'key', 'tlscacerts']);
    const dir = await writeOutput('app', files);
    const verify = await runCommand('openssl', ['verify', '-CAfile', `${dir}/tlscacerts`, `${dir}/tlscert`]);
    expect(verify.code).toBe(0);
    // The key matches the certificate: same public key from both.
    const fromCert = await tool('openssl', ['x509', '-in', `${dir}/tlscert`, '-noout', '-pubkey']);
    const fromKey = await tool('openssl', ['pkey', '-in', `${dir}/key`, '-pubout']);
    expect(fromCert).toBe(fromKey);
  });

  it('adds tls.crt, tls.key and tls.cas with identical content for specific_tls_naming', () => {
    const files = byName(
      renderOutput('application', fx.response('application'), fx.keys, { specificTlsNaming: true }),
    );
    expect([...files.keys()]).toEqual(['tlscert', 'key', 'tlscacerts', 'tls.crt', 'tls.key', 'tls.cas']);
    expect(files.get('tls.crt')?.data).toBe(files.get('tlscert')?.data);
    expect(files.get('tls.key')?.data).toBe(files.get('key')?.data);
    expect(files.get('tls.cas')?.data).toBe(files.get('tlscacerts')?.data);
    expect(files.get('tls.key')?.secret).toBe(true);
  });
});

describe('ssh_host output', () => {
  it('writes a host key sshd can load, its certificate and the user CA for TrustedUserCAKeys', async () => {
    const host = await fx.makeHostKey(['node1.example.test']);
    const response = fx.response('ssh_host', { ssh_cert: host.hostCert });
    const files = renderOutput('ssh_host', response, host.keys);
    expect(files.map((f) => [f.name, f.secret])).toEqual([
      ['ssh_host', true],
      ['ssh_host-cert.pub', false],
      ['ssh_host-user-ca.pub', false],
    ]);
    const dir = await writeOutput('ssh-host', files);
    const derived = (await tool('ssh-keygen', ['-y', '-f', `${dir}/ssh_host`])).trim();
    expect(derived).toBe(host.keys.sshPublicKey);
    expect(await tool('ssh-keygen', ['-L', '-f', `${dir}/ssh_host-cert.pub`])).toMatch(/host certificate/);
    const userCa = await tool('ssh-keygen', ['-l', '-f', `${dir}/ssh_host-user-ca.pub`]);
    const expected = await tool('ssh-keygen', ['-l', '-f', `${fx.sshUserCaPath}.pub`]);
    expect(userCa.split(' ')[1]).toBe(expected.split(' ')[1]);
    // sshd -t: the real server accepts HostKey + HostCertificate + TrustedUserCAKeys from these files.
    const check = await runCommand('/usr/sbin/sshd', [
      '-t',
      '-f',
      '/dev/null',
      '-o',
      `HostKey=${dir}/ssh_host`,
      '-o',
      `HostCertificate=${dir}/ssh_host-cert.pub`,
      '-o',
      `TrustedUserCAKeys=${dir}/ssh_host-user-ca.pub`,
    ]);
    expect(check.stderr).toBe('');
    expect(check.code).toBe(0);
  });
});

describe('kubernetes output', () => {
  it('writes a kubeconfig that kubectl reads back with every field', async () => {
    const kubeCa = fx.tlsHostCa;
    const response = fx.response('kubernetes', {
      kubernetes: {
        cluster_name: 'example-k8s-cluster',
        api_server: 'https://127.0.0.1:6443',
        ca_cert: kubeCa.certPem,
        tls_server_name: 'kube.example.internal',
        user: 'alice',
        groups: ['example'],
      },
    });
    const files = renderOutput('kubernetes', response, fx.keys);
    expect(files.map((f) => f.name)).toEqual(['kubeconfig.yaml', 'tlscert', 'key', 'tlscacerts', 'identity']);
    const dir = await writeOutput('kube', files);
    const kubeconfig = `${dir}/kubeconfig.yaml`;
    expect((await stat(kubeconfig)).mode & 0o777).toBe(0o600);

    const view = parseYaml(await tool('kubectl', ['--kubeconfig', kubeconfig, 'config', 'view', '--raw']));
    expect(view['current-context']).toBe('example-k8s-cluster');
    expect(view.clusters[0].name).toBe('example-k8s-cluster');
    expect(view.clusters[0].cluster.server).toBe('https://127.0.0.1:6443');
    expect(view.clusters[0].cluster['tls-server-name']).toBe('kube.example.internal');
    expect(Buffer.from(view.clusters[0].cluster['certificate-authority-data'], 'base64').toString()).toBe(
      kubeCa.certPem,
    );
    expect(Buffer.from(view.users[0].user['client-certificate-data'], 'base64').toString()).toBe(
      fx.tlsCertPem,
    );
    expect(Buffer.from(view.users[0].user['client-key-data'], 'base64').toString()).toBe(
      fx.keys.privateKeyPem,
    );
    expect(view.contexts[0].context).toEqual({ cluster: 'example-k8s-cluster', user: 'example-k8s-cluster' });

    const contexts = await tool('kubectl', ['--kubeconfig', kubeconfig, 'config', 'get-contexts']);
    expect(contexts).toMatch(/^\*\s+example-k8s-cluster\s+example-k8s-cluster\s+example-k8s-cluster/m);
    // The name tbot gives its context, for scripts that pass it to --context.
    expect(contexts).toMatch(
      /^\s+example\.test-example-k8s-cluster\s+example-k8s-cluster\s+example-k8s-cluster/m,
    );
  });

  it('lets kubectl reach an API server that checks the client certificate, by tls-server-name', async () => {
    const serverCert = await fx.tlsHostCa.issue({
      commonName: 'kube-apiserver',
      usage: 'server',
      dnsNames: ['kube.example.internal'],
    });
    const seen: string[] = [];
    const server = createServer(
      {
        key: serverCert.keyPem,
        cert: serverCert.certPem,
        ca: [fx.tlsUserCa.certPem],
        requestCert: true,
        rejectUnauthorized: true,
      },
      (request, response) => {
        const peer = (request.socket as TLSSocket).getPeerCertificate();
        seen.push(String(peer.subject?.CN ?? ''));
        response.setHeader('content-type', 'application/json');
        response.end(JSON.stringify({ major: '1', minor: '30', gitVersion: 'v1.30.0-midbot-test' }));
      },
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as AddressInfo).port;
      const response = fx.response('kubernetes', {
        kubernetes: {
          cluster_name: 'example-k8s-cluster',
          api_server: `https://127.0.0.1:${port}`,
          ca_cert: fx.tlsHostCa.certPem,
          tls_server_name: 'kube.example.internal',
          user: 'alice',
          groups: ['example'],
        },
      });
      const dir = await writeOutput('kube-live', renderOutput('kubernetes', response, fx.keys));
      const result = await runCommand(
        'kubectl',
        ['--kubeconfig', `${dir}/kubeconfig.yaml`, '--request-timeout=5s', 'get', '--raw', '/version'],
        { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: work } },
      );
      expect(result.stderr).toBe('');
      expect(JSON.parse(result.stdout).gitVersion).toBe('v1.30.0-midbot-test');
      expect([...new Set(seen)]).toEqual(['bot-robot']);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('artifactNames', () => {
  it('names exactly the files each kind of output renders, before anything is issued', async () => {
    const host = await fx.makeHostKey(['node1.example.test']);
    const kubernetes = {
      cluster_name: 'k',
      api_server: 'https://127.0.0.1:6443',
      ca_cert: fx.tlsHostCa.certPem,
      user: 'alice',
      groups: ['example'],
    };
    const rendered = {
      identity: renderOutput('identity', fx.response('identity'), fx.keys, { artifactDir: work }),
      application: renderOutput('application', fx.response('application'), fx.keys),
      'application with specific_tls_naming': renderOutput(
        'application',
        fx.response('application'),
        fx.keys,
        {
          specificTlsNaming: true,
        },
      ),
      kubernetes: renderOutput('kubernetes', fx.response('kubernetes', { kubernetes }), fx.keys),
      ssh_host: renderOutput('ssh_host', fx.response('ssh_host', { ssh_cert: host.hostCert }), host.keys),
    };
    const names = (files: ReturnType<typeof renderOutput>) => files.map((file) => file.name);
    expect(artifactNames('identity')).toEqual(names(rendered.identity));
    expect(artifactNames('application')).toEqual(names(rendered.application));
    expect(artifactNames('application', { specificTlsNaming: true })).toEqual(
      names(rendered['application with specific_tls_naming']),
    );
    expect(artifactNames('kubernetes')).toEqual(names(rendered.kubernetes));
    expect(artifactNames('ssh_host')).toEqual(names(rendered.ssh_host));
  });
});
