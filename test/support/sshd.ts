import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { type CommandResult, type RunCommandOptions, runCommand } from './run-command.js';

const SSHD = '/usr/sbin/sshd';
const SSH = '/usr/bin/ssh';
/** sshd's privilege-separation directory; it refuses to start without it. */
const PRIVSEP_DIR = '/run/sshd';

export interface StartSshdOptions {
  /** Host private key; copied into sshd's private directory with mode 0600. */
  readonly hostKeyPath: string;
  /** `HostCertificate` for the host key. @default none: clients see a plain host key */
  readonly hostCertificatePath?: string;
  /** `TrustedUserCAKeys`: user certificates signed by these CA keys are accepted. */
  readonly trustedUserCaKeysPath: string;
  /** `AllowUsers`. @default any user */
  readonly allowUsers?: readonly string[];
  /**
   * Certificate principals accepted per login user, written to a private `AuthorizedPrincipalsFile`
   * (`…/principals/%u`, readable by the user as sshd requires). Without it (and without
   * `authorizedPrincipalsFile`) sshd accepts a certificate only if one of its principals is the login name.
   * @default none
   */
  readonly authorizedPrincipals?: Readonly<Record<string, readonly string[]>>;
  /** A raw `AuthorizedPrincipalsFile` value (sshd tokens such as `%u` allowed); excludes `authorizedPrincipals`. */
  readonly authorizedPrincipalsFile?: string;
  /** `RevokedKeys` file (a KRL from `ssh-keygen -k`, or public keys). @default none */
  readonly revokedKeysPath?: string;
  /**
   * More `sshd_config` lines. sshd keeps the first value it reads for a keyword, so lines before any `Match`
   * go first and override the harness's defaults (`PermitRootLogin no`); a `Match` block and what follows
   * it go last. @default []
   */
  readonly extraConfig?: readonly string[];
  /** How long to wait for sshd to accept connections. @default 10_000 */
  readonly startTimeoutMs?: number;
}

export interface SshdHandle {
  readonly host: '127.0.0.1';
  readonly port: number;
  readonly configPath: string;
  /** Everything sshd logged so far (stderr, LogLevel VERBOSE): accepted keys, certificate ids, refusals. */
  logs(): string;
  /** Stops sshd and removes its private directory. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * Runs the real `/usr/sbin/sshd` in the foreground on a free loopback port, with a private config that
 * accepts only certificate logins: no passwords, no keyboard-interactive, no authorized_keys, no PAM.
 * Needs root (tests run as root here and in CI). Root may log in with a certificate
 * (`PermitRootLogin prohibit-password`).
 *
 * @example
 * const sshd = await startSshd({ hostKeyPath, hostCertificatePath, trustedUserCaKeysPath });
 * const result = await runSsh([...sshCertificateLoginArgs({ port: sshd.port, user: 'root', … }), 'echo ok']);
 * await sshd.stop();
 */
export async function startSshd(options: StartSshdOptions): Promise<SshdHandle> {
  if (options.authorizedPrincipals && options.authorizedPrincipalsFile) {
    throw new Error('startSshd: give authorizedPrincipals or authorizedPrincipalsFile, not both');
  }
  await mkdir(PRIVSEP_DIR, { recursive: true, mode: 0o755 });
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mid-sshd-'));
  try {
    // sshd reads AuthorizedPrincipalsFile with the login user's uid, so that user must be able to reach it.
    await chmod(dir, 0o755);
    const hostKeyPath = path.join(dir, 'ssh_host_key');
    await copyFile(options.hostKeyPath, hostKeyPath);
    await chmod(hostKeyPath, 0o600);
    let principalsLine: string | undefined;
    if (options.authorizedPrincipals) {
      const principalsDir = path.join(dir, 'principals');
      await mkdir(principalsDir, { mode: 0o755 });
      for (const [user, principals] of Object.entries(options.authorizedPrincipals)) {
        await writeFile(path.join(principalsDir, user), principals.map((p) => `${p}\n`).join(''), {
          mode: 0o644,
        });
      }
      principalsLine = `AuthorizedPrincipalsFile ${principalsDir}/%u`;
    } else if (options.authorizedPrincipalsFile) {
      principalsLine = `AuthorizedPrincipalsFile ${options.authorizedPrincipalsFile}`;
    }

    let lastError: Error | undefined;
    // The free port can be taken between probing and sshd's bind; try a fresh one a few times.
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const port = await findFreePort();
      const extra = options.extraConfig ?? [];
      const firstMatch = extra.findIndex((line) => /^\s*Match\s/i.test(line));
      const [overrides, matchBlocks] =
        firstMatch === -1 ? [extra, []] : [extra.slice(0, firstMatch), extra.slice(firstMatch)];
      const configPath = path.join(dir, 'sshd_config');
      const config = [
        ...overrides,
        `ListenAddress 127.0.0.1:${port}`,
        `HostKey ${hostKeyPath}`,
        ...(options.hostCertificatePath ? [`HostCertificate ${options.hostCertificatePath}`] : []),
        `TrustedUserCAKeys ${options.trustedUserCaKeysPath}`,
        ...(principalsLine ? [principalsLine] : []),
        ...(options.revokedKeysPath ? [`RevokedKeys ${options.revokedKeysPath}`] : []),
        ...(options.allowUsers ? [`AllowUsers ${options.allowUsers.join(' ')}`] : []),
        'PubkeyAuthentication yes',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'HostbasedAuthentication no',
        'AuthorizedKeysFile none',
        'UsePAM no',
        'PermitRootLogin prohibit-password',
        // Temp dirs and files are not laid out the way StrictModes wants.
        'StrictModes no',
        `PidFile ${path.join(dir, 'sshd.pid')}`,
        'LogLevel VERBOSE',
        'PrintMotd no',
        'PrintLastLog no',
        ...matchBlocks,
        '',
      ].join('\n');
      await writeFile(configPath, config, { mode: 0o644 });
      try {
        return await launch(dir, configPath, port, options.startTimeoutMs ?? 10_000);
      } catch (error) {
        lastError = error as Error;
        if (!/Address already in use/.test(lastError.message)) break;
      }
    }
    throw lastError ?? new Error('sshd did not start');
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

async function launch(dir: string, configPath: string, port: number, timeoutMs: number) {
  // The absolute path matters: sshd re-executes itself for every connection.
  const child = spawn(SSHD, ['-D', '-e', '-f', configPath], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    log += chunk;
  });
  let spawnError: Error | undefined;
  child.once('error', (error) => {
    spawnError = error;
  });
  const killOnExit = () => child.kill('SIGKILL');
  // A crashed or killed test worker must not leave sshd listening.
  process.once('exit', killOnExit);

  // On a failed start the caller removes `dir` (it may retry in it); a started sshd's stop() removes it.
  const abort = async () => {
    process.removeListener('exit', killOnExit);
    await terminate(child);
  };

  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (spawnError) {
      await abort();
      throw new Error(`could not start ${SSHD}: ${spawnError.message}`, { cause: spawnError });
    }
    if (exited(child)) {
      await abort();
      throw new Error(
        `sshd exited before listening (code ${child.exitCode}, signal ${child.signalCode})\n${log}`,
      );
    }
    if (await canConnect(port)) break;
    if (Date.now() > deadline) {
      await abort();
      throw new Error(`sshd was not listening on 127.0.0.1:${port} after ${timeoutMs} ms\n${log}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  let stopped: Promise<void> | undefined;
  return {
    host: '127.0.0.1' as const,
    port,
    configPath,
    logs: () => log,
    stop: () => {
      stopped ??= abort().then(() => rm(dir, { recursive: true, force: true }));
      return stopped;
    },
  };
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

async function terminate(child: ChildProcess): Promise<void> {
  if (exited(child) || child.pid === undefined) return;
  const closed = once(child, 'exit');
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await closed;
  clearTimeout(timer);
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.setTimeout(500);
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not find a free port'));
      });
    });
  });
}

export interface LocalUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
  readonly shell: string;
}

/**
 * Makes sure a local login user exists (creating it with `useradd` if needed) and returns its passwd entry.
 * New users get a home, `/bin/sh` and the password `*` (no password, but not locked: with `UsePAM no`
 * sshd refuses accounts whose password starts with `!`, even for certificate logins). Needs root.
 */
export async function ensureLocalUser(name: string): Promise<LocalUser> {
  if (!/^[a-z_][a-z0-9_-]{0,30}$/.test(name))
    throw new Error(`ensureLocalUser: "${name}" is not a user name`);
  for (let attempt = 0; ; attempt += 1) {
    const existing = await lookUpUser(name);
    if (existing) return existing;
    const result = await runCommand('useradd', [
      '--create-home',
      '--shell',
      '/bin/sh',
      '--password',
      '*',
      name,
    ]);
    // 9: created meanwhile by another worker; 10: /etc/passwd is locked by another useradd.
    if (result.code === 0 || result.code === 9) continue;
    if (result.code === 10 && attempt < 20) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      continue;
    }
    throw new Error(`useradd ${name} failed (exit ${result.code}): ${result.stderr}`);
  }
}

async function lookUpUser(name: string): Promise<LocalUser | undefined> {
  const result = await runCommand('getent', ['passwd', name]);
  if (result.code !== 0) return undefined;
  const [, , uid, gid, , home, shell] = result.stdout.trim().split(':');
  return { name, uid: Number(uid), gid: Number(gid), home: home ?? '', shell: shell ?? '' };
}

/**
 * Runs the real `/usr/bin/ssh` with `-F none -o BatchMode=yes -o ConnectTimeout=5` before `args`, so no
 * config file, agent prompt or password prompt gets in the way; killed after `timeoutMs` (default 15 s).
 */
export function runSsh(args: readonly string[], options: RunCommandOptions = {}): Promise<CommandResult> {
  return runCommand(SSH, ['-F', 'none', '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', ...args], options);
}

export interface SshCertificateLoginOptions {
  readonly port: number;
  readonly user: string;
  readonly identityFile: string;
  readonly certificateFile: string;
  /** known_hosts file, typically holding a `@cert-authority` line (see `certAuthorityKnownHostsLine`). */
  readonly knownHostsFile: string;
}

/**
 * `ssh` arguments for a certificate login to `127.0.0.1` that trusts nothing but the given files: only this
 * key and certificate are offered, no agent, and the host must be known (`StrictHostKeyChecking=yes`).
 * Append the remote command.
 */
export function sshCertificateLoginArgs(options: SshCertificateLoginOptions): string[] {
  return [
    '-p',
    String(options.port),
    '-i',
    options.identityFile,
    '-o',
    `CertificateFile=${options.certificateFile}`,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'IdentityAgent=none',
    '-o',
    'PreferredAuthentications=publickey',
    '-o',
    `UserKnownHostsFile=${options.knownHostsFile}`,
    '-o',
    'GlobalKnownHostsFile=/dev/null',
    '-o',
    'StrictHostKeyChecking=yes',
    `${options.user}@127.0.0.1`,
  ];
}

/** A known_hosts line that trusts host certificates signed by `hostCaPublicKey` for `127.0.0.1:port`. */
export function certAuthorityKnownHostsLine(hostCaPublicKey: string, port: number): string {
  const [type, blob] = hostCaPublicKey.trim().split(/\s+/);
  return `@cert-authority [127.0.0.1]:${port} ${type} ${blob}\n`;
}
