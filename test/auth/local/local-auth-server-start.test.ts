import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { connect, createServer, type Server } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startLocalAuthServer } from '../../../lib/auth/local/local-auth-server.js';
import { localServerFiles } from '../../../lib/auth/local/local-server-files.js';
import { silentLogger } from '../../../lib/core/logger.js';

const roots: string[] = [];
const blockers: Server[] = [];
afterEach(async () => {
  for (const blocker of blockers.splice(0)) await new Promise((done) => blocker.close(done));
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

function newRoot(): string {
  const root = mkdtempSync(join(tmpdir(), 'mid-local-start-'));
  roots.push(root);
  return root;
}

/** A loopback port something else already listens on. */
async function takenPort(): Promise<number> {
  const blocker = createServer();
  blockers.push(blocker);
  await new Promise<void>((done) => blocker.listen(0, '127.0.0.1', done));
  const address = blocker.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** A loopback port nothing listens on (taken and given back). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((done) => probe.listen(0, '127.0.0.1', done));
  const address = probe.address();
  await new Promise((done) => probe.close(done));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Whether something accepts connections on the loopback port. */
function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** The pid of a process that has exited (and been reaped). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return Number(child.stdout);
}

const start = (dataDir: string, extra: Partial<Parameters<typeof startLocalAuthServer>[0]> = {}) =>
  startLocalAuthServer({ dataDir, port: 0, logger: silentLogger, iamJoin: false, ...extra });

describe('midctl auth start: the cluster name of a new cluster', () => {
  it.each(['bad name!', 'a..b', '-x'])(
    'refuses --cluster-name %j before anything is written',
    async (clusterName) => {
      const dataDir = join(newRoot(), 'data');
      const refused = start(dataDir, { clusterName });
      await expect(refused).rejects.toMatchObject({ code: 'invalid_cluster_name' });
      await expect(refused).rejects.toThrow(`--cluster-name: got ${JSON.stringify(clusterName)}, `);
      await expect(refused).rejects.toThrow(/a cluster name is a lower-case DNS name/);
      expect(existsSync(dataDir)).toBe(false);
    },
  );

  it('takes a good name and keeps it', async () => {
    const dataDir = join(newRoot(), 'data');
    const server = await start(dataDir, { clusterName: 'example.test' });
    expect(server.clusterName).toBe('example.test');
    await server.close();
    const again = await start(dataDir);
    expect(again.clusterName).toBe('example.test');
    await again.close();
  });

  it('refuses a different --cluster-name on an existing cluster, naming both and the fix', async () => {
    const dataDir = join(newRoot(), 'data');
    await (await start(dataDir, { clusterName: 'example.test' })).close();
    await expect(start(dataDir, { clusterName: 'other.test' })).rejects.toMatchObject({
      code: 'cluster_name_mismatch',
      message:
        'the CAs in storage belong to cluster "example.test", not "other.test"; start with --cluster-name example.test or use a new data directory',
    });
    const same = await start(dataDir, { clusterName: 'example.test' });
    expect(same.clusterName).toBe('example.test');
    await same.close();
  });

  it('refuses a different --suite on an existing cluster instead of ignoring it, and keeps the cluster', async () => {
    const dataDir = join(newRoot(), 'data');
    const first = await start(dataDir);
    const pin = first.caPin;
    await first.close();
    await expect(start(dataDir, { suite: 'legacy' })).rejects.toMatchObject({
      code: 'suite_mismatch',
      message: `--suite legacy: the CAs in ${dataDir} are of the balanced suite, and a cluster keeps the suite it was made with; drop --suite, or use a new data directory for a legacy cluster`,
    });
    for (const suite of [undefined, 'balanced' as const]) {
      const again = await start(dataDir, suite === undefined ? {} : { suite });
      expect(again.caPin).toBe(pin);
      await again.close();
    }
  });
});

describe('midctl auth start that fails to listen', () => {
  it('leaves no cluster behind on a first start, so the next start can still choose the name', async () => {
    const root = newRoot();
    const dataDir = join(root, 'data');
    await expect(start(dataDir, { port: await takenPort() })).rejects.toThrow();
    // No CAs under the default name, no database, no credential: not even the directory.
    expect(readdirSync(root)).toEqual([]);
    const server = await start(dataDir, { clusterName: 'chosen.test' });
    expect(server.clusterName).toBe('chosen.test');
    await server.close();
  });

  it('leaves an existing directory as it was, only without what the failed start wrote', async () => {
    const dataDir = newRoot();
    writeFileSync(join(dataDir, 'notes.txt'), 'mine\n');
    await expect(start(dataDir, { port: await takenPort() })).rejects.toThrow();
    expect(readdirSync(dataDir)).toEqual(['notes.txt']);
  });

  it('stops serving and frees the directory when it fails after it started listening', async () => {
    const dataDir = newRoot();
    // Where the service writes its address, a folder: the start fails after the HTTPS server is up.
    mkdirSync(localServerFiles(dataDir).serverInfo);
    const port = await freePort();
    await expect(start(dataDir, { port })).rejects.toThrow(/EISDIR/);
    await expect(connects(port)).resolves.toBe(false);
    expect(existsSync(localServerFiles(dataDir).lock)).toBe(false);
    rmSync(localServerFiles(dataDir).serverInfo, { recursive: true });
    const server = await start(dataDir, { port });
    await server.close();
  });

  it('keeps everything of an existing cluster when a restart fails', async () => {
    const dataDir = join(newRoot(), 'data');
    const first = await start(dataDir, { clusterName: 'kept.test' });
    await first.service.admin.putResources(
      [{ kind: 'role', version: 'v7', metadata: { name: 'ops' }, spec: {} }],
      false,
      'test',
    );
    await first.close();
    const files = localServerFiles(dataDir);
    const before = {
      cas: readFileSync(join(files.caFolder, 'cas.json'), 'utf8'),
      adminToken: readFileSync(files.adminToken, 'utf8'),
      serverInfo: readFileSync(files.serverInfo, 'utf8'),
    };
    await expect(start(dataDir, { port: await takenPort() })).rejects.toThrow();
    expect(readFileSync(join(files.caFolder, 'cas.json'), 'utf8')).toBe(before.cas);
    expect(readFileSync(files.adminToken, 'utf8')).toBe(before.adminToken);
    expect(readFileSync(files.serverInfo, 'utf8')).toBe(before.serverInfo);
    expect(existsSync(files.lock)).toBe(false);
    const again = await start(dataDir);
    expect(again.clusterName).toBe('kept.test');
    expect(await again.service.admin.getResources('roles')).toHaveLength(1);
    await again.close();
  });
});

describe('a data directory that lost its CA keys', () => {
  it('is refused rather than given new CAs nothing trusts, and keeps its state', async () => {
    const dataDir = join(newRoot(), 'data');
    const first = await start(dataDir, { clusterName: 'kept.test' });
    const pin = first.service.context.cas.caPin;
    await first.close();
    const files = localServerFiles(dataDir);
    const caKeys = join(files.caFolder, 'cas.json');
    const saved = readFileSync(caKeys);
    rmSync(caKeys);
    const database = readFileSync(files.database);

    await expect(start(dataDir)).rejects.toMatchObject({
      code: 'ca_keys_missing',
      message: expect.stringContaining(
        `holds a cluster's state (${files.database}) but not its CA keys (${caKeys})`,
      ),
    });
    expect(existsSync(caKeys)).toBe(false);
    expect(readFileSync(files.database).equals(database)).toBe(true);

    writeFileSync(caKeys, saved, { mode: 0o600 });
    const restored = await start(dataDir);
    expect(restored.service.context.cas.caPin).toBe(pin);
    await restored.close();
  });
});

describe('one auth service per data directory', () => {
  it('refuses a second service on a directory in use, naming the pid and address, and changes nothing', async () => {
    const dataDir = join(newRoot(), 'data');
    const running = await start(dataDir);
    const files = localServerFiles(dataDir);
    const serverInfo = readFileSync(files.serverInfo, 'utf8');
    try {
      const second = start(dataDir);
      await expect(second).rejects.toMatchObject({ code: 'data_dir_in_use' });
      await expect(second).rejects.toThrow(
        `--data-dir ${dataDir} is in use by the auth service pid ${process.pid} at ${running.url}; stop that service first or use another --data-dir`,
      );
      expect(readFileSync(files.serverInfo, 'utf8')).toBe(serverInfo);
      expect(readFileSync(files.lock, 'utf8')).toBe(`${process.pid} ${hostname()}\n`);
    } finally {
      await running.close();
    }
    // Stopping releases the directory.
    expect(existsSync(files.lock)).toBe(false);
    const next = await start(dataDir);
    await next.close();
  });

  it.each([
    ['the pid of a process that is gone', () => String(deadPid())],
    ['no pid at all', () => 'not a pid'],
  ])('takes over a lock file holding %s', async (_what, content) => {
    const dataDir = join(newRoot(), 'data');
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(localServerFiles(dataDir).lock, `${content()}\n`);
    const server = await start(dataDir);
    expect(readFileSync(localServerFiles(dataDir).lock, 'utf8')).toBe(`${process.pid} ${hostname()}\n`);
    await server.close();
    expect(readdirSync(dataDir)).not.toContain('auth-server.lock');
  });
});

describe('midctl auth start: a data directory that cannot be created', () => {
  it.each([
    ['a file at its place', (root: string) => join(root, 'file'), 'a file is in the way;'],
    ['a file on its path', (root: string) => join(root, 'file', 'data'), 'a file is in the way on its path'],
  ])('says so for %s, with the fix', async (_, dataDirIn, why) => {
    const root = newRoot();
    writeFileSync(join(root, 'file'), 'not a folder');
    const dataDir = dataDirIn(root);
    const refused = start(dataDir);
    await expect(refused).rejects.toMatchObject({ code: 'unusable_data_dir' });
    await expect(refused).rejects.toThrow(`cannot create the data directory ${dataDir}: ${why}`);
    await expect(refused).rejects.toThrow(/; choose another with --data-dir$/);
  });

  // Node's recursive mkdir would never return here.
  it.runIf(existsSync('/proc/self'))('refuses a folder under /proc at once', async () => {
    await expect(start('/proc/no-such-folder/data')).rejects.toThrow(
      'cannot create the data directory /proc/no-such-folder/data: the filesystem there refuses new folders',
    );
  });
});

describe('midctl auth start: a data directory someone else could have prepared', () => {
  const runningAsRoot = process.getuid?.() === 0;
  const NOBODY = 65534;

  it('refuses a symlink planted at a file it writes, and writes nothing through it', async () => {
    const root = newRoot();
    const dataDir = join(root, 'data');
    mkdirSync(dataDir, { mode: 0o700 });
    const outside = join(root, 'outside.txt');
    writeFileSync(outside, 'not the service file\n');
    symlinkSync(outside, localServerFiles(dataDir).hostCa);
    const refused = start(dataDir);
    await expect(refused).rejects.toMatchObject({ code: 'unsafe_data_dir' });
    await expect(refused).rejects.toThrow(
      `${localServerFiles(dataDir).hostCa} is a symlink; the auth service never reads or writes its files through one. Someone may have tampered with ${dataDir}: check who created the link, and remove it`,
    );
    expect(readFileSync(outside, 'utf8')).toBe('not the service file\n');
    expect(readdirSync(dataDir)).toEqual(['host-ca.pem']);
  });

  it('refuses an admin credential that others may read, naming the file and the fix', async () => {
    const dataDir = join(newRoot(), 'data');
    mkdirSync(dataDir, { mode: 0o700 });
    const file = localServerFiles(dataDir).adminToken;
    writeFileSync(file, 'a-credential-someone-else-knows\n', { mode: 0o644 });
    chmodSync(file, 0o644);
    const refused = start(dataDir);
    await expect(refused).rejects.toMatchObject({ code: 'unsafe_data_dir' });
    await expect(refused).rejects.toThrow(
      `${file} may be read or changed by users other than its owner (mode 0644); make it private with chmod 600 ${file} (or, if someone else may have read it, delete it: the next start makes a new admin credential)`,
    );
    await expect(refused).rejects.not.toThrow(/someone-else-knows/);
    chmodSync(file, 0o600);
    const server = await start(dataDir);
    await server.close();
  });

  it.runIf(runningAsRoot)(
    'refuses a folder owned by another user, before changing its mode or trusting its credential',
    async () => {
      const dataDir = join(newRoot(), 'data');
      mkdirSync(dataDir);
      chmodSync(dataDir, 0o777);
      writeFileSync(localServerFiles(dataDir).adminToken, 'planted\n', { mode: 0o600 });
      chownSync(localServerFiles(dataDir).adminToken, NOBODY, NOBODY);
      chownSync(dataDir, NOBODY, NOBODY);
      const refused = start(dataDir);
      await expect(refused).rejects.toMatchObject({ code: 'unsafe_data_dir' });
      await expect(refused).rejects.toThrow(
        `--data-dir ${dataDir} is owned by uid ${NOBODY} (nobody), not by uid 0 (root) running the auth service: its owner could replace the CA keys and the admin credential in it. Run the service as its owner, or give the folder to this user (chown -R 0 ${dataDir}) once you have checked what it holds`,
      );
      expect(statSync(dataDir).mode & 0o777).toBe(0o777);
      expect(readdirSync(dataDir)).toEqual(['admin-token']);
    },
  );

  it.runIf(runningAsRoot)('refuses CA keys owned by another user in its own folder', async () => {
    const dataDir = join(newRoot(), 'data');
    const first = await start(dataDir);
    await first.close();
    const keys = join(localServerFiles(dataDir).caFolder, 'cas.json');
    chownSync(keys, NOBODY, NOBODY);
    await expect(start(dataDir)).rejects.toThrow(
      `${keys} is owned by uid ${NOBODY} (nobody), not by uid 0 (root) running the auth service; someone may have tampered with ${dataDir}: check the file, then give it to this user (chown 0 ${keys}); removing it would give the cluster new CAs, which no bot, node or app trusts`,
    );
  });

  it('refuses CA keys that others may read, saying what a reader of them could do', async () => {
    const dataDir = join(newRoot(), 'data');
    const first = await start(dataDir);
    await first.close();
    const keys = join(localServerFiles(dataDir).caFolder, 'cas.json');
    chmodSync(keys, 0o640);
    await expect(start(dataDir)).rejects.toThrow(
      `${keys} may be read or changed by users other than its owner (mode 0640); make it private with chmod 600 ${keys} (if someone else may have read it, they can sign as the cluster: start a new cluster in a new data directory and have bots, nodes and apps trust its CAs)`,
    );
  });
});
