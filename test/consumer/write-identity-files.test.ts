import {
  chmod,
  chown,
  lstat,
  mkdir,
  mkdtemp,
  readdir,
  readFile,
  rm,
  stat,
  symlink,
  writeFile,
} from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderKubeconfig } from '../../lib/bot/render/render-kubeconfig.js';
import { renderSshConfig } from '../../lib/bot/render/render-ssh-config.js';
import {
  type Identity,
  IdentityFormatError,
  IdentityWriteError,
  parseIdentity,
  rewriteSshConfigPaths,
  writeIdentityFiles,
} from '../../lib/consumer/index.js';
import { startKubeApiStandIn } from '../support/kube-api-server.js';
import { runKubectl } from '../support/kubectl.js';
import { createOpensslCa } from '../support/openssl-ca.js';
import { runCommand } from '../support/run-command.js';
import { issueSshCertificateLine } from './ssh-files.js';
import { issueTlsFiles } from './tls-files.js';

/** A user other than the one running the tests (as root): `nobody`. */
const NOBODY = 65534;
/** Where the bot rendered the output; ssh_config names it. */
const BOT_DIR = '/opt/machine-id';
/** Three identities' worth of TLS files: the output, and an old and a new one to replace each other. */
const TLS = issueTlsFiles();
const OLD = issueTlsFiles();
const NEW = issueTlsFiles();

let work: string;

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'mid-consumer-files-'));
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** `issuedAt` must fall within the validity of a `tlscert` given: the certificate's notAfter caps the identity. */
function identityOf(
  files: Record<string, string>,
  issuedAt = Date.parse('2030-01-01T00:00:00.000Z'),
): Identity {
  return parseIdentity(
    JSON.stringify({
      ...files,
      expires_at: new Date(issuedAt + 3_600_000).toISOString(),
      issued_at: new Date(issuedAt).toISOString(),
      bot: 'ci',
      output: 'identity',
      serial: 'serial-1',
    }),
    'midbot/ci/identity',
  );
}

const sshConfig = renderSshConfig({
  cluster: 'example.test',
  nodes: [{ name: 'n1', hostname: 'node1', addr: '10.0.0.5:2222' }],
  artifactDir: BOT_DIR,
});

const identityOutput = () =>
  identityOf({
    identity: 'identity file with PRIVATE KEY\n',
    ...TLS,
    'key.pub': 'ssh-ed25519 AAAA\n',
    'key-cert.pub': issueSshCertificateLine(),
    sshcacerts: 'cert-authority ssh-ed25519 AAAA\n',
    known_hosts: '@cert-authority *.example.test ssh-ed25519 AAAA\n',
    ssh_config: sshConfig,
    'some-future-file': 'unknown\n',
  });

async function modes(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await readdir(dir)).sort()) {
    out[name] = ((await stat(path.join(dir, name))).mode & 0o777).toString(8);
  }
  return out;
}

async function sshG(configPath: string, host: string): Promise<Record<string, string>> {
  const result = await runCommand('ssh', ['-G', '-F', configPath, host]);
  expect(result.code, result.stderr).toBe(0);
  const options: Record<string, string> = {};
  for (const line of result.stdout.split('\n')) {
    const space = line.indexOf(' ');
    if (space > 0) options[line.slice(0, space)] ??= line.slice(space + 1);
  }
  return options;
}

describe('writeIdentityFiles', () => {
  it('writes every artifact with 0600 for key material and 0644 for the rest, in a 0700 folder', async () => {
    const dir = path.join(work, 'modes', 'out');

    await writeIdentityFiles(identityOutput(), dir);

    expect(await modes(dir)).toEqual({
      identity: '600',
      key: '600',
      'key-cert.pub': '644',
      'key.pub': '644',
      known_hosts: '644',
      'some-future-file': '600',
      ssh_config: '644',
      sshcacerts: '644',
      tlscacerts: '644',
      tlscert: '644',
    });
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    expect(await readFile(path.join(dir, 'key'), 'utf8')).toBe(TLS.key);
  });

  it('points ssh_config at the new folder, so ssh -F uses the written key, certificate and known_hosts', async () => {
    // A space in the folder, as in macOS's "Application Support": the paths must stay quoted.
    const dir = path.join(work, 'ssh folder');

    const written = await writeIdentityFiles(identityOutput(), dir);

    const config = await readFile(written.paths['ssh_config'] as string, 'utf8');
    expect(config).not.toContain(BOT_DIR);
    expect(config).toContain(`# Use: ssh -F ${dir}/ssh_config <login>@<node>.example.test`);
    const options = await sshG(path.join(dir, 'ssh_config'), 'node1.example.test');
    expect(options).toMatchObject({
      hostname: '10.0.0.5',
      port: '2222',
      identityfile: path.join(dir, 'key'),
      certificatefile: path.join(dir, 'key-cert.pub'),
      userknownhostsfile: path.join(dir, 'known_hosts'),
      stricthostkeychecking: 'true',
    });
  });

  it('replaces the files of a previous identity atomically and leaves no temporary file', async () => {
    const dir = path.join(work, 'replace');
    await writeIdentityFiles(identityOutput(), dir);

    await writeIdentityFiles(identityOf({ key: NEW.key, tlscert: NEW.tlscert }), dir);

    expect(await readFile(path.join(dir, 'key'), 'utf8')).toBe(NEW.key);
    expect((await readdir(dir)).filter((name) => name.startsWith('.'))).toEqual([]);
  });

  it('refuses a symlink planted at a file name and leaves the previous files', async () => {
    const dir = path.join(work, 'planted');
    await writeIdentityFiles(identityOf({ key: OLD.key, tlscert: OLD.tlscert }), dir);
    await rm(path.join(dir, 'tlscert'));
    await writeFile(path.join(work, 'elsewhere'), 'not yours\n');
    await symlink(path.join(work, 'elsewhere'), path.join(dir, 'tlscert'));

    const error = await writeIdentityFiles(identityOf({ key: NEW.key, tlscert: NEW.tlscert }), dir).catch(
      (caught: unknown) => caught,
    );

    expect(error).toBeInstanceOf(IdentityWriteError);
    expect((error as IdentityWriteError).code).toBe('identity_write_failed');
    expect((error as Error).message).toMatch(
      /tlscert is a symlink; identity files are never written through symlinks/,
    );
    // Advice for a consumer, not for the bot.
    expect((error as Error).message).toContain('write the identity again');
    expect((error as Error).message).not.toContain('run midbot');
    expect(await readFile(path.join(dir, 'key'), 'utf8')).toBe(OLD.key);
    expect(await readFile(path.join(work, 'elsewhere'), 'utf8')).toBe('not yours\n');
    expect((await lstat(path.join(dir, 'tlscert'))).isSymbolicLink()).toBe(true);
  });

  it('refuses an artifact name that is not a plain file name, writing nothing', async () => {
    const dir = path.join(work, 'traversal');
    await mkdir(dir);

    await expect(writeIdentityFiles(identityOf({ key: TLS.key, '../escape': 'x\n' }), dir)).rejects.toThrow(
      IdentityFormatError,
    );
    expect(await readdir(dir)).toEqual([]);
  });

  it('refuses a folder its group may write, writing nothing, and writes once it is private', async () => {
    const dir = path.join(work, 'group-writable');
    await mkdir(dir);
    await chmod(dir, 0o775);

    const error = await writeIdentityFiles(identityOutput(), dir).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(IdentityWriteError);
    expect((error as Error).message).toBe(
      `${dir} may be written by users other than its owner (mode 0775): they could replace ssh_config, known_hosts or kubeconfig.yaml after they are written. Make it private (chmod go-w ${dir}), or write the identity to a folder of this user's own`,
    );
    expect(await readdir(dir)).toEqual([]);
    await chmod(dir, 0o755);
    await writeIdentityFiles(identityOutput(), dir);
    expect(await readFile(path.join(dir, 'key'), 'utf8')).toBe(TLS.key);
  });

  it('refuses a folder under one that others may write, which they could swap for their own', async () => {
    const open = path.join(work, 'world-writable');
    await mkdir(open);
    await chmod(open, 0o777);
    const dir = path.join(open, 'machine-id');

    await expect(writeIdentityFiles(identityOutput(), dir)).rejects.toThrow(
      `${open} may be written by users other than its owner (mode 0777)`,
    );
    await expect(stat(dir)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('refuses a folder reached through a symlink to one that others may write', async () => {
    const open = path.join(work, 'world-writable-target');
    await mkdir(open);
    await chmod(open, 0o777);
    const link = path.join(work, 'link-to-open');
    await symlink(open, link);

    await expect(writeIdentityFiles(identityOutput(), path.join(link, 'machine-id'))).rejects.toThrow(
      `${open} may be written by users other than its owner (mode 0777)`,
    );
    await expect(stat(path.join(open, 'machine-id'))).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('writes into a new folder under a sticky one such as /tmp', async () => {
    const sticky = path.join(work, 'sticky');
    await mkdir(sticky);
    await chmod(sticky, 0o1777);

    await writeIdentityFiles(identityOutput(), path.join(sticky, 'machine-id'));

    expect(await readFile(path.join(sticky, 'machine-id', 'key'), 'utf8')).toBe(TLS.key);
  });

  it.skipIf(process.getuid?.() !== 0)(
    'refuses a folder of another user, whose owner could change it',
    async () => {
      const dir = path.join(work, 'not-mine');
      await mkdir(dir, { mode: 0o700 });
      await chown(dir, NOBODY, NOBODY);

      await expect(writeIdentityFiles(identityOutput(), dir)).rejects.toThrow(
        `${dir} is owned by uid ${NOBODY}, not by this process's user (uid 0) or root`,
      );
      expect(await readdir(dir)).toEqual([]);
    },
  );

  it('writes a kubeconfig.yaml that kubectl uses as is', async () => {
    const ca = await createOpensslCa(work, 'Kube CA');
    const server = await ca.issue({
      commonName: 'kube-apiserver',
      usage: 'server',
      ipAddresses: ['127.0.0.1'],
    });
    const client = await ca.issue({ commonName: 'bot-ci', organizations: ['ops'], usage: 'client' });
    const kube = await startKubeApiStandIn({
      serverCertPem: server.certPem,
      serverKeyPem: server.keyPem,
      clientCaPem: ca.certPem,
      allowedGroups: ['ops'],
    });
    try {
      const kubeconfig = renderKubeconfig({
        clusterName: 'prod',
        server: kube.url,
        caCertPem: ca.certPem,
        clientCertPem: client.certPem,
        clientKeyPem: client.keyPem,
      });
      const dir = path.join(work, 'kube');

      await writeIdentityFiles(
        identityOf({ 'kubeconfig.yaml': kubeconfig, tlscert: client.certPem }, Date.now()),
        dir,
      );

      expect(((await stat(path.join(dir, 'kubeconfig.yaml'))).mode & 0o777).toString(8)).toBe('600');
      const result = await runKubectl(['get', 'pods', '-n', 'default', '-o', 'name'], {
        kubeconfigPath: path.join(dir, 'kubeconfig.yaml'),
        cacheDir: path.join(work, 'kube-cache'),
      });
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout.trim()).toBe('pod/mid-e2e-pod');
      expect(kube.requests.at(-1)).toMatchObject({ user: 'bot-ci', status: 200 });
    } finally {
      await kube.stop();
    }
  });
});

describe('rewriteSshConfigPaths', () => {
  const files = new Set(['key', 'key-cert.pub', 'known_hosts']);

  it('escapes % for OpenSSH and leaves paths to other files alone', () => {
    const input = [
      'Host *.example.test',
      '    IdentityFile "/opt/machine-id/key"',
      '    CertificateFile=/opt/machine-id/key-cert.pub',
      '    UserKnownHostsFile "/opt/machine-id/known_hosts"',
      '    IdentityFile ~/.ssh/id_ed25519',
      '',
    ].join('\n');

    expect(rewriteSshConfigPaths(input, '/srv/50%/id', files)).toBe(
      [
        'Host *.example.test',
        '    IdentityFile "/srv/50%%/id/key"',
        '    CertificateFile="/srv/50%%/id/key-cert.pub"',
        '    UserKnownHostsFile "/srv/50%%/id/known_hosts"',
        '    IdentityFile ~/.ssh/id_ed25519',
        '',
      ].join('\n'),
    );
  });

  it('refuses a folder that cannot be quoted in ssh_config', () => {
    for (const dir of ['relative/dir', '/tmp/a"b', '/tmp/a\\b', '/tmp/a\nb']) {
      expect(() => rewriteSshConfigPaths(sshConfig, dir, files)).toThrow(IdentityWriteError);
    }
  });
});
