import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import * as fs from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configFromFlags } from '../../../lib/bot/config/load-bot-config.js';
import { DirectoryDestination } from '../../../lib/bot/destinations/directory-destination.js';
import { initDirectory } from '../../../lib/bot/destinations/init-directory.js';
import { OWNED_FILES_LIST, ownedFilesText } from '../../../lib/bot/destinations/owned-files.js';
import type { CommandRunner } from '../../../lib/bot/destinations/system-accounts.js';
import { ConfigError, DestinationError } from '../../../lib/core/errors.js';
import { runCommand } from '../../support/run-command.js';

/**
 * `midbot init` with real users, the real setfacl, and real reads as those users. Needs root (to
 * create throwaway system users and chown); skipped otherwise.
 */
const canRun = process.getuid?.() === 0 && existsSync('/usr/bin/setfacl') && existsSync('/usr/sbin/useradd');

const PIN = `sha256:${'1'.repeat(64)}`;
const suffix = randomBytes(3).toString('hex');
const users = { bot: `mbbot${suffix}`, reader: `mbread${suffix}`, other: `mbother${suffix}` };
let work: string;

const as = (user: string, command: string) =>
  runCommand('/usr/sbin/runuser', ['-u', user, '--', '/bin/sh', '-c', command], {
    env: { PATH: '/usr/bin:/bin' },
  });

beforeAll(async () => {
  if (!canRun) return;
  for (const name of Object.values(users)) {
    const result = await runCommand('useradd', ['--system', '--no-create-home', '--shell', '/bin/sh', name]);
    if (result.code !== 0) throw new Error(`useradd ${name}: ${result.stderr}`);
  }
  work = await fs.mkdtemp(path.join(tmpdir(), 'midbot-init-'));
  // mkdtemp makes 0700; the reader must be able to pass through to the destination.
  await fs.chmod(work, 0o711);
});

afterAll(async () => {
  if (!canRun) return;
  if (work) await fs.rm(work, { recursive: true, force: true });
  for (const name of Object.values(users)) await runCommand('userdel', [name]);
});

describe.skipIf(!canRun)('initDirectory', () => {
  it('creates the folder, owned by the bot, with ACLs for the bot and the reader', async () => {
    const dir = path.join(work, 'machine-id');
    const result = await initDirectory({ destinationDir: dir, botUser: users.bot, readerUser: users.reader });

    expect(result.created).toBe(true);
    expect(result.owner.user.name).toBe(users.bot);
    expect(result.description).toContain(`created ${dir}`);
    expect(result.description).toContain(`${users.reader} may read`);

    const acl = (await runCommand('getfacl', ['--omit-header', '--absolute-names', dir])).stdout;
    // The bot owns the folder, so its rights are the owner entry; the reader is named.
    expect(acl).toContain('user::rwx\n');
    expect(acl).toContain(`user:${users.reader}:r-x\n`);
    expect(acl).toContain('group::---\n');
    expect(acl).toContain('other::---\n');
    expect(acl).toContain('default:user::rw-\n');
    expect(acl).toContain(`default:user:${users.reader}:r--\n`);
    expect(acl).toContain('default:group::---\n');
    expect(acl).toContain('default:mask::r--\n');
    expect(acl).toContain('default:other::---\n');
    const stats = await fs.stat(dir);
    const botUid = Number((await runCommand('id', ['-u', users.bot])).stdout.trim());
    expect(stats.uid).toBe(botUid);
  });

  it('names the bot user when another user owns the folder (--owner)', async () => {
    const dir = path.join(work, 'owned-by-root');
    await initDirectory({
      destinationDir: dir,
      botUser: users.bot,
      readerUser: users.reader,
      owner: 'root:root',
    });
    const acl = (await runCommand('getfacl', ['--omit-header', '--absolute-names', dir])).stdout;
    expect(acl).toContain(`user:${users.bot}:rwx\n`);
    expect(acl).toContain(`user:${users.reader}:r-x\n`);
    expect(acl).toContain(`default:user:${users.bot}:rw-\n`);
    expect(acl).toContain(`default:user:${users.reader}:r--\n`);
    expect(acl).toContain('default:mask::rw-\n');

    // The bot user can create and replace files in it; the reader cannot.
    expect((await as(users.bot, `echo x > '${dir}/probe' && mv '${dir}/probe' '${dir}/probe2'`)).code).toBe(
      0,
    );
    expect((await as(users.reader, `touch '${dir}/nope'`)).code).not.toBe(0);
  });

  it('lets the reader read the artifacts midbot writes, keys included, and nobody else', async () => {
    const dir = path.join(work, 'readable');
    await initDirectory({ destinationDir: dir, botUser: users.bot, readerUser: users.reader });
    await new DirectoryDestination(dir).write([
      { name: 'key', data: 'private key\n', secret: true },
      { name: 'tlscert', data: 'certificate\n', secret: false },
    ]);

    const reader = await as(users.reader, `cat '${dir}/key' '${dir}/tlscert'`);
    expect(reader.stderr).toBe('');
    expect(reader.stdout).toBe('private key\ncertificate\n');

    const other = await as(users.other, `cat '${dir}/key'`);
    expect(other.code).not.toBe(0);
    expect(other.stderr).toMatch(/Permission denied/);
    const otherCert = await as(users.other, `cat '${dir}/tlscert'`);
    expect(otherCert.code).not.toBe(0);

    const keyAcl = (await runCommand('getfacl', ['--omit-header', '--absolute-names', `${dir}/key`])).stdout;
    expect(keyAcl).toContain(`user:${users.reader}:r--\n`);
    expect(keyAcl).toContain('group::---\n');
    expect(keyAcl).not.toContain('#effective:---');
  });

  it('fixes the ACL of artifacts already in the folder, and leaves symlinks and hard links alone', async () => {
    const dir = path.join(work, 'existing');
    await fs.mkdir(dir, { mode: 0o700 });
    await fs.writeFile(path.join(dir, 'key'), 'old key\n', { mode: 0o600 });
    await fs.writeFile(path.join(dir, OWNED_FILES_LIST), ownedFilesText(['key']));
    await fs.symlink('/etc/hostname', path.join(dir, 'planted'));
    const outside = path.join(work, 'outside-secret');
    await fs.writeFile(outside, 'secret\n', { mode: 0o600 });
    await fs.link(outside, path.join(dir, 'hardlinked'));

    const result = await initDirectory({ destinationDir: dir, botUser: users.bot, readerUser: users.reader });
    expect(result.created).toBe(false);
    expect(result.filesUpdated).toEqual([OWNED_FILES_LIST, 'key'].sort());
    expect([...result.entriesSkipped].sort()).toEqual(['hardlinked', 'planted']);
    expect(result.description).toMatch(
      /^left alone \(not plain files of one link, such as folders, symlinks, pipes and hard links; midbot never writes through them\): (hardlinked, planted|planted, hardlinked)$/m,
    );
    expect((await as(users.reader, `cat '${dir}/key'`)).stdout).toBe('old key\n');
    const outsideAcl = (await runCommand('getfacl', ['--omit-header', '--absolute-names', outside])).stdout;
    expect(outsideAcl).not.toContain(users.reader);
    const hostnameAcl = (await runCommand('getfacl', ['--omit-header', '--absolute-names', '/etc/hostname']))
      .stdout;
    expect(hostnameAcl).not.toContain(users.reader);
  });

  it('changes the file it checked, not one swapped in under its name before the change', async () => {
    const dir = path.join(work, 'swapped');
    await fs.mkdir(dir, { mode: 0o700 });
    await fs.writeFile(path.join(dir, 'key'), 'old key\n', { mode: 0o600 });
    await fs.writeFile(path.join(dir, OWNED_FILES_LIST), ownedFilesText(['key']));
    const outside = path.join(work, 'outside-swapped');
    await fs.writeFile(outside, 'secret\n', { mode: 0o600 });
    // The folder's owner swaps `key` for a hard link to a file outside, after init checked it and
    // before it sets the ACL (where fs.protected_hardlinks is off, the owner may link any file).
    let swapped = false;
    const swapping: CommandRunner = async (file, args) => {
      const target = String(args.at(-1));
      const opened = target.startsWith('/proc/') ? await fs.readlink(target).catch(() => '') : target;
      if (file === 'setfacl' && opened === path.join(dir, 'key') && !swapped) {
        swapped = true;
        await fs.link(outside, path.join(dir, 'planted'));
        await fs.rename(path.join(dir, 'planted'), path.join(dir, 'key'));
      }
      return runCommand(file, [...args]);
    };

    const result = await initDirectory({
      destinationDir: dir,
      botUser: users.bot,
      readerUser: users.reader,
      run: swapping,
    });
    expect(swapped).toBe(true);
    expect([...result.filesUpdated].sort()).toEqual([OWNED_FILES_LIST, 'key']);
    const outsideAcl = (await runCommand('getfacl', ['--omit-header', '--absolute-names', outside])).stdout;
    expect(outsideAcl).not.toContain(users.reader);
    expect((await fs.stat(outside)).uid).toBe(0);
  });

  it('refuses a folder holding files midbot did not write (~/.ssh given by mistake) before changing anything', async () => {
    const dir = path.join(work, 'dot-ssh');
    await fs.mkdir(dir, { mode: 0o700 });
    await fs.writeFile(path.join(dir, 'id_ed25519'), 'PRIVATE\n', { mode: 0o600 });
    await fs.writeFile(path.join(dir, 'known_hosts'), 'host key\n', { mode: 0o644 });
    const before = await fs.stat(dir);

    await expect(
      initDirectory({ destinationDir: dir, botUser: users.bot, readerUser: users.reader }),
    ).rejects.toMatchObject({
      code: 'destination_holds_other_files',
      message: expect.stringContaining(`${dir} holds files midbot did not write (id_ed25519, known_hosts;`),
    });
    const after = await fs.stat(dir);
    expect([after.uid, after.mode]).toEqual([before.uid, before.mode]);
    expect((await as(users.reader, `cat '${dir}/known_hosts'`)).code).not.toBe(0);
    const acl = (
      await runCommand('getfacl', ['--omit-header', '--absolute-names', path.join(dir, 'id_ed25519')])
    ).stdout;
    expect(acl).not.toContain(users.reader);
  });

  it("refuses a bot's storage folder before changing anything in it", async () => {
    for (const stored of ['bot-identity.json', 'midbot.lock']) {
      const dir = path.join(work, `storage-${stored}`);
      await fs.mkdir(dir, { mode: 0o700 });
      await fs.writeFile(path.join(dir, stored), '{}', { mode: 0o600 });
      const aclBefore = (await runCommand('getfacl', ['--omit-header', '--absolute-names', '-R', dir]))
        .stdout;

      const error = await initDirectory({
        destinationDir: dir,
        botUser: users.bot,
        readerUser: users.reader,
      }).catch((e: unknown) => e);

      expect(error).toBeInstanceOf(DestinationError);
      expect(error).toMatchObject({ code: 'destination_is_bot_storage' });
      expect((error as Error).message).toBe(
        `${dir} holds a bot's storage (${stored}): its renewable identity, which ${users.reader} must never read. Give the outputs a folder of their own outside it, such as ${dir}-out, run init on that, and keep --data-dir private to the bot`,
      );
      // The folder suggested is one `midbot start --data-dir` accepts as --destination-dir.
      const suggested = /such as (\S+),/.exec((error as Error).message)?.[1] ?? '';
      const startFlags = {
        dataDir: dir,
        destinationDir: suggested,
        authServer: 'a.example:443',
        caPins: [PIN],
      };
      expect(() => configFromFlags(startFlags)).not.toThrow();
      const aclAfter = (await runCommand('getfacl', ['--omit-header', '--absolute-names', '-R', dir])).stdout;
      expect(aclAfter).toBe(aclBefore);
      expect(aclAfter).not.toContain(users.reader);
    }
  });

  it('refuses an unknown user, naming the flag and the fix', async () => {
    const error = await initDirectory({
      destinationDir: path.join(work, 'x'),
      botUser: 'no-such-user-midbot',
      readerUser: users.reader,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('unknown_user');
    expect((error as Error).message).toMatch(
      /--bot-user: there is no user "no-such-user-midbot".*useradd --system/,
    );
    expect(existsSync(path.join(work, 'x'))).toBe(false);
  });

  it('refuses an owner that is not user:group, and an unknown group', async () => {
    await expect(
      initDirectory({
        destinationDir: path.join(work, 'y'),
        botUser: users.bot,
        readerUser: users.reader,
        owner: 'root',
      }),
    ).rejects.toMatchObject({ code: 'invalid_owner' });
    await expect(
      initDirectory({
        destinationDir: path.join(work, 'y'),
        botUser: users.bot,
        readerUser: users.reader,
        owner: 'root:no-such-group-midbot',
      }),
    ).rejects.toMatchObject({ code: 'unknown_group' });
  });

  it('refuses a relative folder', async () => {
    await expect(
      initDirectory({ destinationDir: 'machine-id', botUser: users.bot, readerUser: users.reader }),
    ).rejects.toThrow(/absolute path/);
  });

  it('says why a folder cannot be made: under /proc, or past a file', async () => {
    await expect(
      initDirectory({
        destinationDir: '/proc/no-such-folder/out',
        botUser: users.bot,
        readerUser: users.reader,
      }),
    ).rejects.toThrow(
      'cannot create /proc/no-such-folder/out: a folder on its path is missing and could not be created (ENOENT; pseudo-filesystems such as /proc and /sys refuse new folders)',
    );
    const file = path.join(work, 'a-file');
    await fs.writeFile(file, '');
    await expect(
      initDirectory({ destinationDir: path.join(file, 'out'), botUser: users.bot, readerUser: users.reader }),
    ).rejects.toThrow(
      `${path.join(file, 'out')}: a file is in the way on its path, where a folder should be (ENOTDIR)`,
    );
  });

  it('says how to install setfacl when it is missing', async () => {
    const run: CommandRunner = async (file, args) => {
      if (file === 'setfacl') throw Object.assign(new Error('spawn setfacl ENOENT'), { code: 'ENOENT' });
      return runCommand(file, args);
    };
    const error = await initDirectory({
      destinationDir: path.join(work, 'no-setfacl'),
      botUser: users.bot,
      readerUser: users.reader,
      run,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DestinationError);
    expect((error as DestinationError).code).toBe('setfacl_missing');
    expect((error as Error).message).toMatch(/setfacl \(package "acl"\).*apt-get install acl/);
  });

  it('says so when the filesystem has no ACL support', async () => {
    const run: CommandRunner = async (file, args) => {
      if (file === 'setfacl')
        return { code: 1, stdout: '', stderr: `setfacl: ${args.at(-1)}: Operation not supported\n` };
      return runCommand(file, args);
    };
    const error = await initDirectory({
      destinationDir: path.join(work, 'no-acl'),
      botUser: users.bot,
      readerUser: users.reader,
      run,
    }).catch((e: unknown) => e);
    expect((error as DestinationError).code).toBe('acl_unsupported');
    expect((error as Error).message).toMatch(/does not support POSIX ACLs.*remount with the acl option/);
  });
});
