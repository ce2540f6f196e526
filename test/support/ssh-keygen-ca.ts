import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { runCommand } from './run-command.js';

/** An OpenSSH key pair on disk (private key mode 0600, as `ssh` and `sshd` demand). */
export interface SshKeyPair {
  readonly privateKeyPath: string;
  readonly publicKeyPath: string;
  /** The `.pub` line: `ssh-ed25519 AAAA… comment`. */
  readonly publicKey: string;
}

export interface SignSshKeyOptions {
  /** The key id (`-I`), which sshd logs on login. */
  readonly identity: string;
  /** Users (user certificates) or host names (host certificates) the certificate is valid for. */
  readonly principals: readonly string[];
  /** `ssh-keygen -V` interval. @default '-5m:+1h' */
  readonly validity?: string;
}

export interface SshCertificate {
  readonly certificatePath: string;
  /** The `-cert.pub` line. */
  readonly certificate: string;
}

/** A throwaway OpenSSH certificate authority made with the `ssh-keygen` CLI. */
export interface SshKeygenCa extends SshKeyPair {
  signUserKey(publicKeyPath: string, options: SignSshKeyOptions): Promise<SshCertificate>;
  signHostKey(publicKeyPath: string, options: SignSshKeyOptions): Promise<SshCertificate>;
}

/** Generates an unencrypted Ed25519 key pair at `dir/name` and `dir/name.pub`. */
export async function generateSshKey(dir: string, name: string): Promise<SshKeyPair> {
  const privateKeyPath = path.join(dir, name);
  await sshKeygen(['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', privateKeyPath]);
  const publicKeyPath = `${privateKeyPath}.pub`;
  return { privateKeyPath, publicKeyPath, publicKey: (await readFile(publicKeyPath, 'utf8')).trim() };
}

/**
 * Creates an Ed25519 CA key at `dir/name` that signs user and host keys with the real `ssh-keygen -s`.
 *
 * @example
 * const userCa = await createSshKeygenCa(dir, 'user-ca');
 * const key = await generateSshKey(dir, 'alice');
 * const { certificatePath } = await userCa.signUserKey(key.publicKeyPath, { identity: 'alice', principals: ['root'] });
 */
export async function createSshKeygenCa(dir: string, name: string): Promise<SshKeygenCa> {
  const key = await generateSshKey(dir, name);
  const sign = async (publicKeyPath: string, options: SignSshKeyOptions, host: boolean) => {
    await sshKeygen([
      '-q',
      '-s',
      key.privateKeyPath,
      '-I',
      options.identity,
      ...(host ? ['-h'] : []),
      '-n',
      options.principals.join(','),
      '-V',
      options.validity ?? '-5m:+1h',
      publicKeyPath,
    ]);
    const certificatePath = publicKeyPath.replace(/\.pub$/, '') + '-cert.pub';
    return { certificatePath, certificate: (await readFile(certificatePath, 'utf8')).trim() };
  };
  return {
    ...key,
    signUserKey: (publicKeyPath, options) => sign(publicKeyPath, options, false),
    signHostKey: (publicKeyPath, options) => sign(publicKeyPath, options, true),
  };
}

async function sshKeygen(args: string[]): Promise<void> {
  const result = await runCommand('ssh-keygen', args);
  if (result.code !== 0) {
    throw new Error(`ssh-keygen ${args.join(' ')} failed (exit ${result.code}): ${result.stderr}`);
  }
}
