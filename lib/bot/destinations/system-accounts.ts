import { execFile } from 'node:child_process';
import { ConfigError, DestinationError } from '../../core/errors.js';

/*
 * The system tools `midbot init` runs (`getent`, `setfacl`), and the users and groups it looks up with
 * `getent`, so that names from NSS (LDAP, sssd) resolve as they do for `chown`.
 */

export type CommandRunner = (file: string, args: readonly string[]) => Promise<CommandOutput>;

export interface CommandOutput {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** A user or group: its name and numeric id. */
export interface Account {
  readonly name: string;
  readonly id: number;
}

/** Where the tools are looked for: a fixed PATH, so a binary planted earlier in $PATH is not run. */
const TOOL_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** A user, with the primary group a folder it owns gets by default. */
export interface ResolvedUser {
  readonly account: Account;
  readonly primaryGid: number;
}

/** A user by name or uid, as `getent passwd` sees it. */
export async function lookupUser(run: CommandRunner, name: string, flag: string): Promise<ResolvedUser> {
  const entry = await getent(run, 'passwd', name, flag);
  // name:password:uid:gid:gecos:home:shell
  const [userName, , uid, gid] = entry.split(':');
  if (userName === undefined || uid === undefined || gid === undefined) {
    throw new ConfigError(
      'unknown_user',
      `${flag}: could not read the passwd entry of ${JSON.stringify(name)}`,
    );
  }
  return { account: { name: userName, id: Number(uid) }, primaryGid: Number(gid) };
}

/** A group by name or gid, as `getent group` sees it. */
export async function lookupGroup(run: CommandRunner, name: string, flag: string): Promise<Account> {
  const entry = await getent(run, 'group', name, flag);
  const [groupName, , gid] = entry.split(':');
  if (groupName === undefined || gid === undefined) {
    throw new ConfigError(
      'unknown_group',
      `${flag}: could not read the group entry of ${JSON.stringify(name)}`,
    );
  }
  return { name: groupName, id: Number(gid) };
}

/** `--owner user:group`. */
export async function lookupOwner(
  run: CommandRunner,
  owner: string,
): Promise<{ user: Account; group: Account }> {
  const parts = owner.split(':');
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    throw new ConfigError(
      'invalid_owner',
      `--owner: got ${JSON.stringify(owner)}, expected user:group such as teleport:teleport`,
    );
  }
  const user = await lookupUser(run, parts[0], '--owner');
  const group = await lookupGroup(run, parts[1], '--owner');
  return { user: user.account, group };
}

const ACCOUNT_NAME = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,31}\$?$/;

async function getent(
  run: CommandRunner,
  database: 'passwd' | 'group',
  name: string,
  flag: string,
): Promise<string> {
  const kind = database === 'passwd' ? 'user' : 'group';
  if (!ACCOUNT_NAME.test(name)) {
    throw new ConfigError(
      kind === 'user' ? 'unknown_user' : 'unknown_group',
      `${flag}: got ${JSON.stringify(name)}, expected a ${kind} name or number`,
    );
  }
  const result = await runOrExplain(run, 'getent', [database, name], 'getent (part of the C library tools)');
  const line = result.stdout.split('\n')[0] ?? '';
  if (result.code !== 0 || line === '') {
    throw new ConfigError(
      kind === 'user' ? 'unknown_user' : 'unknown_group',
      `${flag}: there is no ${kind} ${JSON.stringify(name)} on this machine; create it (${kind === 'user' ? 'useradd --system' : 'groupadd --system'} ${name}) or check the spelling`,
    );
  }
  return line;
}

/** Runs `file`, turning a missing tool into the package to install. */
export async function runOrExplain(
  run: CommandRunner,
  file: string,
  args: readonly string[],
  what: string,
): Promise<CommandOutput> {
  try {
    return await run(file, args);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new DestinationError(
        file === 'setfacl' ? 'setfacl_missing' : 'init_tool_missing',
        `midbot init needs ${what}, which is not installed; install it (apt-get install acl, dnf install acl) and run init again`,
        { cause: error },
      );
    }
    throw new DestinationError('init_failed', `could not run ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

/** The default runner: no shell, fixed PATH so a planted binary earlier in $PATH is not picked up. */
export function runTool(file: string, args: readonly string[]): Promise<CommandOutput> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      [...args],
      { timeout: 15_000, env: { PATH: TOOL_PATH, LC_ALL: 'C' } },
      (error, stdout, stderr) => {
        const code = (error as NodeJS.ErrnoException | null)?.code;
        if (code === 'ENOENT') {
          reject(error);
          return;
        }
        resolve({ code: error ? (typeof code === 'number' ? code : 1) : 0, stdout, stderr });
      },
    );
  });
}
