import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ArtifactFile } from '../../../lib/bot/destinations/destination.js';
import {
  DirectoryDestination,
  type DirectoryFileHandle,
  type DirectoryFs,
} from '../../../lib/bot/destinations/directory-destination.js';
import { OWNED_FILES_LIST } from '../../../lib/bot/destinations/owned-files.js';
import { DestinationError } from '../../../lib/core/errors.js';
import { runCommand } from '../../support/run-command.js';

let work: string;
let root: string;

beforeEach(async () => {
  work = await fs.mkdtemp(path.join(tmpdir(), 'midbot-dest-'));
  root = path.join(work, 'out');
});

afterEach(async () => {
  await fs.rm(work, { recursive: true, force: true });
});

const noAcl = { readerAclProbe: async () => false };

const output = (version: string): ArtifactFile[] => [
  { name: 'key', data: `private key ${version}\n`, secret: true },
  { name: 'tlscert', data: `certificate ${version}\n`, secret: false },
  { name: 'key-cert.pub', data: Buffer.from(`ssh cert ${version}\n`), secret: false },
];

/** What the agent tells a destination of an output of `bot`, beside its files. */
const metadata = (bot: string) => ({
  bot,
  output: 'identity',
  serial: '01',
  issuedAt: '2030-01-01T00:00:00.000Z',
  expiresAt: '2030-01-01T01:00:00.000Z',
});

/** The artifacts in `dir`, by name; the list of midbot's files is looked at on its own. */
async function contents(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const name of (await fs.readdir(dir)).sort()) {
    if (name !== OWNED_FILES_LIST) out[name] = await fs.readFile(path.join(dir, name), 'utf8');
  }
  return out;
}

async function destinationError(promise: Promise<unknown>): Promise<DestinationError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(DestinationError);
    return error as DestinationError;
  }
  throw new Error('expected a DestinationError');
}

/** Real fs calls, with a hook that may throw before any of them. */
function faultyFs(fail: (call: string, target: string) => NodeJS.ErrnoException | undefined): DirectoryFs {
  const check = (call: string, target: string) => {
    const error = fail(call, target);
    if (error) throw error;
  };
  return {
    lstat: async (target) => {
      check('lstat', target);
      return fs.lstat(target);
    },
    mkdir: async (target, options) => {
      check('mkdir', target);
      return fs.mkdir(target, options);
    },
    rename: async (from, to) => {
      check('rename', to);
      return fs.rename(from, to);
    },
    readdir: async (target) => {
      check('readdir', target);
      return fs.readdir(target);
    },
    unlink: async (target) => {
      check('unlink', target);
      return fs.unlink(target);
    },
    open: async (target, flags, mode) => {
      check('open', target);
      const handle = await fs.open(target, flags, mode);
      const wrapped: DirectoryFileHandle = {
        writeFile: async (data) => {
          check('write', target);
          return handle.writeFile(data);
        },
        readFile: () => handle.readFile(),
        stat: () => handle.stat(),
        chmod: (mode) => handle.chmod(mode),
        sync: async () => {
          check('sync', target);
          return handle.sync();
        },
        close: () => handle.close(),
      };
      return wrapped;
    },
  };
}

const errno = (code: string): NodeJS.ErrnoException =>
  Object.assign(new Error(`${code}: simulated`), { code });

describe('DirectoryDestination', () => {
  it('creates a missing folder with mode 0700 and writes keys 0600, other files 0644', async () => {
    const nested = path.join(root, 'a', 'b');
    await new DirectoryDestination(nested, noAcl).write(output('v1'));
    expect((await fs.stat(nested)).mode & 0o777).toBe(0o700);
    expect((await fs.stat(path.join(nested, 'key'))).mode & 0o777).toBe(0o600);
    expect((await fs.stat(path.join(nested, 'tlscert'))).mode & 0o777).toBe(0o644);
    expect(await contents(nested)).toEqual({
      key: 'private key v1\n',
      'key-cert.pub': 'ssh cert v1\n',
      tlscert: 'certificate v1\n',
    });
  });

  it("refuses to replace a file of someone's in a folder of theirs, and writes nothing", async () => {
    // `--destination-dir ~/.ssh`: the user's known_hosts among their keys and config.
    await fs.mkdir(root);
    await fs.writeFile(path.join(root, 'known_hosts'), 'github.com ssh-ed25519 AAAA\n');
    await fs.writeFile(path.join(root, 'id_ed25519'), 'my key\n', { mode: 0o600 });
    await fs.writeFile(path.join(root, 'config'), 'Host *\n');
    const destination = new DirectoryDestination(root, noAcl);

    const error = await destinationError(
      destination.write([
        ...output('v1'),
        { name: 'known_hosts', data: '@cert-authority *\n', secret: false },
      ]),
    );

    expect(error.code).toBe('destination_holds_other_files');
    expect(error.message).toBe(
      `${root} already holds known_hosts, which midbot did not write (.midbot-files.json does not list it) and would replace. Give the output a folder of its own (such as ${root}/machine-id), or move it away if midbot may own that name (files an older midbot wrote there, before it kept that list, included); nothing was written`,
    );
    expect((await fs.readdir(root)).sort()).toEqual(['config', 'id_ed25519', 'known_hosts']);
    expect(await fs.readFile(path.join(root, 'known_hosts'), 'utf8')).toBe('github.com ssh-ed25519 AAAA\n');
  });

  it("writes beside someone's files when it replaces none of them, and replaces its own from then on", async () => {
    await fs.mkdir(root);
    await fs.writeFile(path.join(root, 'notes.txt'), 'mine\n');
    const destination = new DirectoryDestination(root, noAcl);

    await destination.write(output('v1'));
    await new DirectoryDestination(root, noAcl).write(output('v2'));

    expect(await contents(root)).toEqual({
      key: 'private key v2\n',
      'key-cert.pub': 'ssh cert v2\n',
      'notes.txt': 'mine\n',
      tlscert: 'certificate v2\n',
    });
    expect(JSON.parse(await fs.readFile(path.join(root, OWNED_FILES_LIST), 'utf8'))).toEqual({
      written_by: 'midbot',
      files: ['key', 'key-cert.pub', 'tlscert'],
    });
  });

  it("refuses to write one bot's artifacts over another bot's, keeping the first bot's files", async () => {
    await new DirectoryDestination(root, noAcl).write(output('robot'), metadata('robot'));
    expect(JSON.parse(await fs.readFile(path.join(root, OWNED_FILES_LIST), 'utf8'))).toMatchObject({
      bot: 'robot',
    });

    const error = await new DirectoryDestination(root, noAcl)
      .write(output('robot2'), metadata('robot2'))
      .catch((caught: unknown) => caught);

    expect(error).toMatchObject({
      code: 'destination_of_another_bot',
      message: `${root} holds the artifacts of bot "robot" (.midbot-files.json says so), and this output is bot "robot2"'s: writing would replace "robot"'s identity there, and each bot would replace the other's at every run. Give each bot's output a folder of its own; to hand this folder to "robot2" for good, first move "robot"'s files out of it; nothing was written`,
    });
    expect(await fs.readFile(path.join(root, 'key'), 'utf8')).toBe('private key robot\n');
    // Another instance of the same bot (a new join) writes on as before.
    await new DirectoryDestination(root, noAcl).write(output('robot again'), metadata('robot'));
    expect(await fs.readFile(path.join(root, 'key'), 'utf8')).toBe('private key robot again\n');
  });

  it("hands a folder to another bot once the first bot's files were moved out of it, as the refusal says", async () => {
    await new DirectoryDestination(root, noAcl).write(output('robot'), metadata('robot'));
    // What a person does: `mv out/* elsewhere/`, which leaves the hidden list in place.
    for (const name of ['key', 'tlscert', 'key-cert.pub']) await fs.rm(path.join(root, name));

    await new DirectoryDestination(root, noAcl).write(output('robot2'), metadata('robot2'));

    expect(await fs.readFile(path.join(root, 'key'), 'utf8')).toBe('private key robot2\n');
    expect(JSON.parse(await fs.readFile(path.join(root, OWNED_FILES_LIST), 'utf8'))).toMatchObject({
      bot: 'robot2',
    });
  });

  it('takes over a list an older midbot wrote, which names no bot, for the bot writing now', async () => {
    await new DirectoryDestination(root, noAcl).write(output('v1'));
    await new DirectoryDestination(root, noAcl).write(output('v2'), metadata('robot'));

    expect(JSON.parse(await fs.readFile(path.join(root, OWNED_FILES_LIST), 'utf8'))).toEqual({
      written_by: 'midbot',
      bot: 'robot',
      files: ['key', 'key-cert.pub', 'tlscert'],
    });
  });

  it("removes the files an earlier write left that this one does not write, and nobody else's", async () => {
    await fs.mkdir(root);
    await fs.writeFile(path.join(root, 'notes.txt'), 'mine\n');
    const destination = new DirectoryDestination(root, noAcl);
    await destination.write(output('v1'));

    // The output changed (say, from identity to application): key-cert.pub is no longer written.
    await destination.write(output('v2').filter((file) => file.name !== 'key-cert.pub'));

    expect(await contents(root)).toEqual({
      key: 'private key v2\n',
      'notes.txt': 'mine\n',
      tlscert: 'certificate v2\n',
    });
    expect(JSON.parse(await fs.readFile(path.join(root, OWNED_FILES_LIST), 'utf8')).files).toEqual([
      'key',
      'tlscert',
    ]);
  });

  it('keeps the files of an earlier write when this one fails', async () => {
    await new DirectoryDestination(root, noAcl).write(output('v1'));
    const failing = new DirectoryDestination(root, {
      ...noAcl,
      fs: faultyFs((call) => (call === 'write' ? errno('ENOSPC') : undefined)),
    });

    await destinationError(failing.write(output('v2').filter((file) => file.name === 'key')));

    expect(Object.keys(await contents(root))).toEqual(['key', 'key-cert.pub', 'tlscert']);
  });

  it("refuses a file it did not write even in a folder holding nothing else (a user's lone known_hosts)", async () => {
    await fs.mkdir(root);
    await fs.writeFile(path.join(root, 'tlscert'), 'not written by midbot\n');

    const error = await destinationError(new DirectoryDestination(root, noAcl).write(output('v1')));

    expect(error.code).toBe('destination_holds_other_files');
    expect(await fs.readdir(root)).toEqual(['tlscert']);
  });

  it("trusts no list it did not make, and removes only files of its own at artifacts' names", async () => {
    const destination = new DirectoryDestination(root, noAcl);
    await destination.write(output('v1'));
    // Someone who may write the folder lists a file of theirs, and links a name to a file elsewhere.
    await fs.writeFile(path.join(root, 'notes.txt'), 'mine\n');
    const outside = path.join(work, 'outside');
    await fs.writeFile(outside, 'elsewhere\n');
    await fs.rm(path.join(root, 'key-cert.pub'));
    await fs.link(outside, path.join(root, 'key-cert.pub'));
    const list = JSON.parse(await fs.readFile(path.join(root, OWNED_FILES_LIST), 'utf8'));
    await fs.writeFile(
      path.join(root, OWNED_FILES_LIST),
      JSON.stringify({ ...list, files: [...list.files, 'notes.txt'] }),
    );

    await destination.write(output('v2').filter((file) => file.name !== 'key-cert.pub'));

    expect(await fs.readFile(path.join(root, 'notes.txt'), 'utf8')).toBe('mine\n');
    expect(await fs.readFile(outside, 'utf8')).toBe('elsewhere\n');
    expect((await fs.readdir(root)).sort()).toEqual([
      OWNED_FILES_LIST,
      'key',
      'key-cert.pub',
      'notes.txt',
      'tlscert',
    ]);
  });

  it.runIf(process.getuid?.() === 0)(
    'trusts no list another user made, even one naming its files',
    async () => {
      const destination = new DirectoryDestination(root, noAcl);
      await destination.write(output('v1'));
      // Someone else's list (here: nobody's) cannot vouch for the files at artifacts' names.
      await fs.chown(path.join(root, OWNED_FILES_LIST), 65534, 65534);

      const error = await destinationError(destination.write(output('v2')));

      expect(error.code).toBe('destination_holds_other_files');
      expect(await fs.readFile(path.join(root, 'key'), 'utf8')).toBe('private key v1\n');
    },
  );

  it.runIf(process.getuid?.() === 0)(
    "says the list is the bot user's, not that it lacks the files, when root writes a folder `midbot init` gave away",
    async () => {
      const destination = new DirectoryDestination(root, noAcl);
      await destination.write(output('v1'));
      // What `midbot init --bot-user` does to a folder midbot wrote: every file goes to the bot user.
      for (const name of await fs.readdir(root)) await fs.chown(path.join(root, name), 65534, 65534);

      const error = await destinationError(destination.write(output('v2')));

      expect(error.code).toBe('destination_holds_other_files');
      expect(error.message).toContain(
        `.midbot-files.json there belongs to uid 65534, and midbot, running as uid 0, trusts only a list its own user or root wrote; run midbot as the user that owns the folder (the --bot-user \`midbot init\` gave it to)`,
      );
      expect(error.message).not.toContain('does not list');
      expect(await fs.readFile(path.join(root, 'key'), 'utf8')).toBe('private key v1\n');
    },
  );

  it('sets 0600 on a key even where a previous version was world-readable', async () => {
    await new DirectoryDestination(root, noAcl).write(output('v1'));
    await fs.chmod(path.join(root, 'key'), 0o666);
    await new DirectoryDestination(root, noAcl).write(output('v2'));
    expect((await fs.stat(path.join(root, 'key'))).mode & 0o777).toBe(0o600);
  });

  it('replaces files whole: a concurrent reader sees the old or the new content, never a mix', async () => {
    const destination = new DirectoryDestination(root, noAcl);
    const big = (fill: string) => fill.repeat(4 * 1024 * 1024);
    const oldText = big('a');
    const newText = big('b');
    await destination.write([{ name: 'tlscacerts', data: oldText, secret: false }]);

    let writing = true;
    let reads = 0;
    const seen = new Set<string>();
    const reader = (async () => {
      while (writing) {
        reads += 1;
        const text = await fs.readFile(path.join(root, 'tlscacerts'), 'utf8');
        seen.add(text === oldText ? 'old' : text === newText ? 'new' : `partial:${text.length}`);
      }
    })();
    for (let round = 0; round < 3; round += 1) {
      await destination.write([
        { name: 'tlscacerts', data: round % 2 === 0 ? newText : oldText, secret: false },
      ]);
    }
    writing = false;
    await reader;

    expect(reads).toBeGreaterThan(3);
    expect([...seen].filter((kind) => kind.startsWith('partial'))).toEqual([]);
    expect((await fs.readdir(root)).sort()).toEqual([OWNED_FILES_LIST, 'tlscacerts']);
    expect(await fs.readFile(path.join(root, 'tlscacerts'), 'utf8')).toBe(newText);
  });

  it('refuses a symlink planted at an artifact name and leaves its target and every file untouched', async () => {
    const destination = new DirectoryDestination(root, noAcl);
    await destination.write(output('v1'));
    const outside = path.join(work, 'outside-secret');
    await fs.writeFile(outside, 'do not touch\n');
    await fs.rm(path.join(root, 'key'));
    await fs.symlink(outside, path.join(root, 'key'));

    const error = await destinationError(destination.write(output('v2')));
    expect(error.code).toBe('symlink_in_destination');
    expect(error.message).toContain(path.join(root, 'key'));

    expect(await fs.readFile(outside, 'utf8')).toBe('do not touch\n');
    expect((await fs.lstat(path.join(root, 'key'))).isSymbolicLink()).toBe(true);
    expect(await fs.readFile(path.join(root, 'tlscert'), 'utf8')).toBe('certificate v1\n');
    expect((await fs.readdir(root)).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('replaces, never follows, a symlink planted at an artifact name after the check and before the rename', async () => {
    await new DirectoryDestination(root, noAcl).write(output('v1'));
    const outside = path.join(work, 'outside-secret');
    await fs.writeFile(outside, 'do not touch\n');
    const real = faultyFs(() => undefined);
    let planted = false;
    const destination = new DirectoryDestination(root, {
      ...noAcl,
      fs: {
        ...real,
        rename: async (from, to) => {
          // The race a local attacker would win: the temporary files are written, the link goes in.
          if (!planted && to === path.join(root, 'key')) {
            planted = true;
            await fs.rm(to);
            await fs.symlink(outside, to);
          }
          await real.rename(from, to);
        },
      },
    });

    await destination.write(output('v2'));

    expect(planted).toBe(true);
    expect(await fs.readFile(outside, 'utf8')).toBe('do not touch\n');
    const key = await fs.lstat(path.join(root, 'key'));
    expect(key.isFile()).toBe(true);
    expect(key.mode & 0o777).toBe(0o600);
    expect(await fs.readFile(path.join(root, 'key'), 'utf8')).toBe('private key v2\n');
  });

  it('never writes through a symlink planted at the name of its temporary file', async () => {
    const destination = new DirectoryDestination(root, { ...noAcl, randomSuffix: () => '0123456789abcdef' });
    await destination.write(output('v1'));
    const outside = path.join(work, 'outside-secret');
    await fs.writeFile(outside, 'do not touch\n');
    await fs.symlink(outside, path.join(root, '.key.0123456789abcdef.tmp'));

    await destinationError(destination.write(output('v2')));

    expect(await fs.readFile(outside, 'utf8')).toBe('do not touch\n');
    expect((await fs.lstat(path.join(root, 'key'))).isFile()).toBe(true);
    expect(await contents(root)).toMatchObject({ key: 'private key v1\n', tlscert: 'certificate v1\n' });
  });

  it("never writes into someone's file at the name of its temporary file", async () => {
    const destination = new DirectoryDestination(root, { ...noAcl, randomSuffix: () => '0123456789abcdef' });
    await destination.write(output('v1'));
    const planted = path.join(root, '.key.0123456789abcdef.tmp');
    await fs.writeFile(planted, 'not yours\n', { mode: 0o666 });

    await destinationError(destination.write(output('v2')));

    expect(await fs.readFile(planted, 'utf8')).toBe('not yours\n');
    expect(await contents(root)).toMatchObject({ key: 'private key v1\n', tlscert: 'certificate v1\n' });
  });

  it('refuses to read through a symlink', async () => {
    await fs.mkdir(root);
    await fs.writeFile(path.join(work, 'outside'), 'x');
    await fs.symlink(path.join(work, 'outside'), path.join(root, 'key'));
    const error = await destinationError(new DirectoryDestination(root, noAcl).read('key'));
    expect(error.code).toBe('symlink_in_destination');
  });

  it('refuses a destination folder that is itself a symlink', async () => {
    const real = path.join(work, 'real');
    await fs.mkdir(real);
    await fs.symlink(real, root);
    const error = await destinationError(new DirectoryDestination(root, noAcl).write(output('v1')));
    expect(error.code).toBe('symlink_in_destination');
    expect(await fs.readdir(real)).toEqual([]);
  });

  it.each(['../escape', '..', 'a/b', '/etc/passwd', '.hidden', 'nul\0byte', '', 'a..b'])(
    'refuses the artifact name %j',
    async (name) => {
      const error = await destinationError(
        new DirectoryDestination(root, noAcl).write([{ name, data: 'x', secret: false }]),
      );
      expect(error.code).toBe('invalid_artifact_name');
      await expect(fs.readdir(work)).resolves.toEqual([]);
    },
  );

  it('refuses a relative root or one with ..', () => {
    expect(() => new DirectoryDestination('out')).toThrow(DestinationError);
    expect(() => new DirectoryDestination('/opt/../etc')).toThrow(/without "\.\."/);
  });

  it('leaves the previous files in place when a folder sits where a file should go', async () => {
    const destination = new DirectoryDestination(root, noAcl);
    await destination.write(output('v1'));
    await fs.rm(path.join(root, 'tlscert'));
    await fs.mkdir(path.join(root, 'tlscert'));

    const error = await destinationError(destination.write(output('v2')));
    expect(error.code).toBe('not_a_file');
    expect(error.message).toContain(path.join(root, 'tlscert'));
    expect(await fs.readFile(path.join(root, 'key'), 'utf8')).toBe('private key v1\n');
    expect(await fs.readFile(path.join(root, 'key-cert.pub'), 'utf8')).toBe('ssh cert v1\n');
  });

  it('maps a full disk to a clear error, removes its temporary files and keeps the previous artifacts', async () => {
    await new DirectoryDestination(root, noAcl).write(output('v1'));
    let writes = 0;
    const destination = new DirectoryDestination(root, {
      ...noAcl,
      fs: faultyFs((call) => {
        if (call !== 'write') return undefined;
        writes += 1;
        return writes === 2 ? errno('ENOSPC') : undefined;
      }),
    });

    const error = await destinationError(destination.write(output('v2')));
    expect(error.code).toBe('destination_full');
    expect(error.message).toMatch(/no space left on the device; free space on the filesystem holding .*out/);
    expect(error.message).toContain('the previous artifacts are unchanged');
    expect(error.cause).toMatchObject({ code: 'ENOSPC' });
    expect(await contents(root)).toEqual({
      key: 'private key v1\n',
      'key-cert.pub': 'ssh cert v1\n',
      tlscert: 'certificate v1\n',
    });
  });

  it('maps permission errors to a clear error naming the folder and the fix', async () => {
    const destination = new DirectoryDestination(root, {
      ...noAcl,
      fs: faultyFs((call) => (call === 'open' ? errno('EACCES') : undefined)),
    });
    await fs.mkdir(root);
    const error = await destinationError(destination.write(output('v1')));
    expect(error.code).toBe('destination_permission_denied');
    expect(error.message).toContain(`midbot init --destination-dir ${root}`);
    expect(await fs.readdir(root)).toEqual([]);
  });

  it('names the file that is in the way when a folder on the path is a file (ENOTDIR)', async () => {
    const file = path.join(work, 'afile');
    await fs.writeFile(file, 'a file\n');
    const error = await destinationError(
      new DirectoryDestination(path.join(file, 'sub'), noAcl).write(output('v1')),
    );
    expect(error.code).toBe('not_a_file');
    expect(error.message).toBe(
      `cannot write ${path.join(file, 'sub')}: ${file} is a file, not a folder (ENOTDIR); move it away or choose another path; the previous artifacts are unchanged`,
    );
  });

  it('reports a read-only filesystem as such, not as the ENOENT of a recursive mkdir', async () => {
    const missing = path.join(root, 'a', 'b');
    const destination = new DirectoryDestination(missing, {
      ...noAcl,
      fs: {
        ...faultyFs(() => undefined),
        // What Node's recursive mkdir answers on a read-only mount, and what a plain mkdir says there.
        mkdir: async (_target, options) => {
          throw errno(options.recursive ? 'ENOENT' : 'EROFS');
        },
      },
    });
    const error = await destinationError(destination.write(output('v1')));
    expect(error.code).toBe('destination_read_only');
    expect(error.message).toBe(
      `cannot write ${missing}: the filesystem is mounted read-only; choose a writable folder; the previous artifacts are unchanged`,
    );
    expect(error.cause).toMatchObject({ code: 'EROFS' });
  });

  // Node's recursive mkdir would never return here.
  it.runIf(existsSync('/proc/self'))('refuses a folder under /proc at once, saying why', async () => {
    const error = await destinationError(
      new DirectoryDestination('/proc/no-such-folder/out', noAcl).write(output('v1')),
    );
    expect(error.message).toBe(
      'cannot write /proc/no-such-folder/out: a folder on its path is missing and could not be created (ENOENT; pseudo-filesystems such as /proc and /sys refuse new folders); choose a folder on a regular filesystem; the previous artifacts are unchanged',
    );
  });

  it('says which files were replaced when a rename fails half way, and cleans up the rest', async () => {
    await new DirectoryDestination(root, noAcl).write(output('v1'));
    let renames = 0;
    const destination = new DirectoryDestination(root, {
      ...noAcl,
      fs: faultyFs((call) => {
        if (call !== 'rename') return undefined;
        renames += 1;
        return renames === 2 ? errno('EIO') : undefined;
      }),
    });
    const error = await destinationError(destination.write(output('v2')));
    // The renames go out together: the failed one keeps its previous version, the others are replaced.
    expect(error.message).toContain('already replaced: key, key-cert.pub');
    expect(await contents(root)).toEqual({
      key: 'private key v2\n',
      'key-cert.pub': 'ssh cert v2\n',
      tlscert: 'certificate v1\n',
    });
  });

  it('hands every rename of an output to the kernel before the first one completes', async () => {
    await new DirectoryDestination(root, noAcl).write(output('v1'));
    let inFlight = 0;
    let mostInFlight = 0;
    const real = faultyFs(() => undefined);
    const destination = new DirectoryDestination(root, {
      ...noAcl,
      fs: {
        ...real,
        rename: async (from, to) => {
          inFlight += 1;
          mostInFlight = Math.max(mostInFlight, inFlight);
          // Let every other rename start before this one goes ahead.
          await new Promise((resolve) => setTimeout(resolve, 5));
          await real.rename(from, to);
          inFlight -= 1;
        },
      },
    });

    await destination.write(output('v2'));

    // The artifacts and the list of midbot's files.
    expect(mostInFlight).toBe(output('v2').length + 1);
    expect(Object.values(await contents(root))).toEqual([
      'private key v2\n',
      'ssh cert v2\n',
      'certificate v2\n',
    ]);
  });

  it('removes temporary files a killed run left behind, and only stale ones of its own naming', async () => {
    await fs.mkdir(root, { recursive: true });
    const stale = path.join(root, '.key.0123456789abcdef.tmp');
    const fresh = path.join(root, '.tlscert.fedcba9876543210.tmp');
    const foreign = path.join(root, '.key.backup.tmp');
    for (const file of [stale, fresh, foreign]) await fs.writeFile(file, 'left behind');
    const elevenMinutesAgo = new Date(Date.now() - 11 * 60_000);
    for (const file of [stale, foreign]) await fs.utimes(file, elevenMinutesAgo, elevenMinutesAgo);

    await new DirectoryDestination(root, noAcl).write(output('v1'));

    const names = await fs.readdir(root);
    expect(names).not.toContain('.key.0123456789abcdef.tmp');
    // A write in progress elsewhere, and a file that is not ours, stay.
    expect(names).toContain('.tlscert.fedcba9876543210.tmp');
    expect(names).toContain('.key.backup.tmp');
  });

  it('reads back what it wrote, and nothing for a file never written', async () => {
    const destination = new DirectoryDestination(root, noAcl);
    expect(await destination.read('key')).toBeUndefined();
    await destination.write(output('v1'));
    expect((await destination.read('key'))?.toString()).toBe('private key v1\n');
    expect(await destination.read('identity')).toBeUndefined();
  });

  it('refuses to read a pipe planted at an artifact name instead of hanging on it', async () => {
    await fs.mkdir(root);
    const made = await runCommand('mkfifo', [path.join(root, 'key')]);
    expect(made.code).toBe(0);
    const error = await destinationError(new DirectoryDestination(root, noAcl).read('key'));
    expect(error.code).toBe('not_a_file');
  });

  it('creates keys readable through the ACL when the folder has a default ACL naming readers', async () => {
    await fs.mkdir(root, { mode: 0o700 });
    const setfacl = await runCommand('setfacl', [
      '--set',
      'u::rwx,g::---,o::---,d:u::rw-,d:u:65534:r--,d:g::---,d:m::r--,d:o::---',
      root,
    ]);
    if (setfacl.code !== 0) return; // filesystem without ACLs: covered by the init tests where available
    await new DirectoryDestination(root).write(output('v1'));
    const acl = await runCommand('getfacl', ['--omit-header', '--numeric', path.join(root, 'key')]);
    expect(acl.stdout).toContain('user:65534:r--\n');
    expect(acl.stdout).toContain('mask::r--');
    expect(acl.stdout).toContain('group::---');
    expect(acl.stdout).toContain('other::---');
  });

  it("keeps the bot's stored identity and a consumer's copy 0600 in such a folder: the reader gets nothing", async () => {
    // `midbot init` on a folder later given as --data-dir, or to the consumer library for its copy.
    await fs.mkdir(root, { mode: 0o700 });
    await fs.chmod(work, 0o711); // the reader may pass through to the folder, as to a real destination
    const setfacl = await runCommand('setfacl', [
      '--set',
      'u::rwx,u:65534:r-x,g::---,m::r-x,o::---,d:u::rw-,d:u:65534:r--,d:g::---,d:m::r--,d:o::---',
      root,
    ]);
    if (setfacl.code !== 0) return;
    for (const purpose of ['storage', 'copy'] as const) {
      const name = `${purpose}-secret`;
      await new DirectoryDestination(root, { purpose }).write([{ name, data: 'SECRET\n', secret: true }]);
      expect((await fs.stat(path.join(root, name))).mode & 0o777).toBe(0o600);
      const acl = await runCommand('getfacl', ['--omit-header', '--numeric', path.join(root, name)]);
      // The reader's entry may stay, but the mask lets nothing through it.
      expect(acl.stdout).toContain('mask::---');
      if (process.getuid?.() === 0 && existsSync('/usr/bin/setpriv')) {
        const asReader = await runCommand('/usr/bin/setpriv', [
          '--reuid=65534',
          '--regid=65534',
          '--clear-groups',
          'cat',
          path.join(root, name),
        ]);
        expect(asReader.stdout).toBe('');
        expect(asReader.stderr).toContain('Permission denied');
      }
    }
  });

  it('checks that it can write: creates the folder and leaves no probe behind', async () => {
    const nested = path.join(root, 'data');
    await new DirectoryDestination(nested, noAcl).checkWritable();
    expect((await fs.stat(nested)).mode & 0o777).toBe(0o700);
    expect(await fs.readdir(nested)).toEqual([]);
  });

  it('refuses in checkWritable what a write would refuse, with nothing left behind', async () => {
    await fs.mkdir(root);
    const denied = new DirectoryDestination(root, {
      ...noAcl,
      purpose: 'storage',
      fs: faultyFs((call) => (call === 'open' ? errno('EACCES') : undefined)),
    });
    const error = await destinationError(denied.checkWritable());
    expect(error.code).toBe('destination_permission_denied');
    expect(await fs.readdir(root)).toEqual([]);

    const full = new DirectoryDestination(root, {
      ...noAcl,
      fs: faultyFs((call) => (call === 'write' ? errno('ENOSPC') : undefined)),
    });
    expect((await destinationError(full.checkWritable())).code).toBe('destination_full');
    expect(await fs.readdir(root)).toEqual([]);
  });

  it('tells the owner of a folder whose mode refuses it to fix the mode, not to run as the owner', async () => {
    await fs.mkdir(root, { mode: 0o555 });
    const destination = new DirectoryDestination(root, {
      ...noAcl,
      // Root writes through any mode: the refusal an unprivileged owner would get is injected.
      fs: faultyFs((call) => (call === 'open' ? errno('EACCES') : undefined)),
    });
    const error = await destinationError(destination.write(output('v1')));

    expect(error.message).toContain(
      `permission denied, although this user (uid ${process.getuid?.()}) owns ${root}: its mode is 0555; let the owner write it (\`chmod u+rwx ${root}\`)`,
    );
    expect(error.message).not.toContain('run midbot as the user that owns');
  });

  it('gives storage its own advice: no `midbot init` (that is for readers), and the stored identity is what is kept', async () => {
    const storage = new DirectoryDestination(root, {
      ...noAcl,
      purpose: 'storage',
      fs: faultyFs((call) => (call === 'open' ? errno('EACCES') : undefined)),
    });
    await fs.mkdir(root);
    const error = await destinationError(
      storage.write([{ name: 'bot-identity.json', data: '{}', secret: true }]),
    );
    expect(error.message).toBe(
      `cannot write ${path.join(root, 'bot-identity.json')}: permission denied; ${root} is midbot's data directory (storage): run midbot as the user that owns it, or fix its owner or permissions so that this user may write it (e.g. \`chown -R <user> ${root}\`); the stored identity is unchanged`,
    );
    expect(error.message).not.toContain('midbot init');
  });

  it('says a storage directory that is a file is not a folder, also when reading', async () => {
    await fs.writeFile(root, 'a file\n');
    const storage = new DirectoryDestination(root, { ...noAcl, purpose: 'storage' });
    const message = `storage directory ${root} exists but is not a folder (a file is in the way); move it away or choose another path`;
    expect((await destinationError(storage.read('bot-identity.json'))).message).toBe(message);
    expect((await destinationError(storage.checkWritable())).message).toBe(message);
  });

  it('keeps keys at 0600 when the folder has no default ACL', async () => {
    await new DirectoryDestination(root).write(output('v1'));
    expect((await fs.stat(path.join(root, 'key'))).mode & 0o777).toBe(0o600);
  });
});
