import path from 'node:path';
import { type ArtifactFile, checkArtifactName } from '../bot/destinations/destination.js';
import { DirectoryDestination } from '../bot/destinations/directory-destination.js';
import { DestinationError } from '../core/errors.js';
import { IdentityFormatError, IdentityWriteError } from './errors.js';
import type { Identity } from './identity.js';
import { refuseFolderOthersCanChange } from './identity-folder-check.js';

/**
 * Files that are safe to show (mode 0644). Everything else, including any name this library does
 * not know yet, is written 0600: `key`, `tls.key`, `identity`, `ssh_host` and `kubeconfig.yaml`
 * (which embeds the key) among them.
 */
const PUBLIC_FILES = new Set([
  'key.pub',
  'key-cert.pub',
  'tlscert',
  'tlscacerts',
  'sshcacerts',
  'known_hosts',
  'ssh_config',
  'tls.crt',
  'tls.cas',
  'ssh_host-cert.pub',
  'ssh_host-user-ca.pub',
]);

/** ssh_config directives that name a file of the output (as `renderSshConfig` writes them). */
const PATH_DIRECTIVE =
  /^(\s*)(UserKnownHostsFile|IdentityFile|CertificateFile)(\s*=\s*|\s+)(?:"([^"]*)"|(\S+))\s*$/i;
const USAGE_COMMENT = /^# Use: ssh -F .*\/ssh_config( .*)?$/;

export interface WrittenIdentityFiles {
  /** The absolute folder the files were written to. */
  readonly dir: string;
  /** Absolute path of each file, by artifact name. */
  readonly paths: Readonly<Record<string, string>>;
}

/**
 * Writes every artifact of `identity` into `dir` (created with mode 0700 if missing), so that tools
 * that read files work: `ssh -F <dir>/ssh_config`, `kubectl --kubeconfig <dir>/kubeconfig.yaml`,
 * `curl --cert <dir>/tlscert --key <dir>/key`.
 *
 * - Atomic per file: each is written to a temporary file in `dir`, fsynced, then renamed over the old
 *   one, so a tool reading at the same time sees the old or the new file, never half of one.
 * - Modes: 0600 for key material (`key`, `tls.key`, `identity`, `ssh_host`, `kubeconfig.yaml`, and
 *   any file it does not know), 0644 for certificates and public files.
 * - Symlinks at a file's name or as `dir` itself are refused, never followed.
 * - A folder another user could change files in is refused before anything is written: `dir` and
 *   each folder above it must be owned by this process's user or root, and writable by no one else
 *   unless sticky (`/tmp`), as OpenSSH asks of `~/.ssh`.
 * - `ssh_config` names the folder the *bot* rendered it for; its `IdentityFile`, `CertificateFile`
 *   and `UserKnownHostsFile` lines are rewritten to point into `dir`.
 *
 * @throws {@link IdentityWriteError} when the folder cannot be written (previous files stay as they were),
 * {@link IdentityFormatError} when an artifact name could not be a file name.
 *
 * @example
 * const identity = await loadIdentity({ secretId: 'machine-id/ci/identity' });
 * await writeIdentityFiles(identity, '/run/machine-id');
 * // ssh -F /run/machine-id/ssh_config root@node1.example.com
 */
export async function writeIdentityFiles(identity: Identity, dir: string): Promise<WrittenIdentityFiles> {
  const root = path.resolve(dir);
  const names = Object.keys(identity.files);
  for (const name of names) {
    try {
      checkArtifactName(name);
    } catch (error) {
      throw new IdentityFormatError(
        `secret ${identity.secretId} has an artifact named ${JSON.stringify(name.slice(0, 80))}, which cannot be a file name`,
        { cause: error, secretId: identity.secretId },
      );
    }
  }
  const available = new Set(names);
  const files: ArtifactFile[] = names.map((name) => {
    const content = identity.files[name] as string;
    return {
      name,
      data: name === 'ssh_config' ? rewriteSshConfigPaths(content, root, available) : content,
      secret: !PUBLIC_FILES.has(name),
    };
  });
  await refuseFolderOthersCanChange(root);
  try {
    // The folder is the consumer's own: keys get exactly 0600, whatever default ACL it carries.
    await new DirectoryDestination(root, { readerAclProbe: async () => false, purpose: 'copy' }).write(files);
  } catch (error) {
    if (!(error instanceof DestinationError)) throw error;
    throw new IdentityWriteError(
      `cannot write the identity from ${identity.secretId} to ${root}: ${error.message}`,
      {
        cause: error,
        secretId: identity.secretId,
      },
    );
  }
  return {
    dir: root,
    paths: Object.fromEntries(names.map((name) => [name, path.join(root, name)])),
  };
}

/**
 * `ssh_config` as the bot rendered it, with every `IdentityFile`, `CertificateFile` and
 * `UserKnownHostsFile` that names one of the output's files pointed at `dir` instead, and the usage
 * comment updated. Lines naming other files are left alone.
 *
 * @throws {@link IdentityWriteError} when `dir` cannot be written into ssh_config (a quote, backslash
 * or control character in it).
 *
 * @example
 * rewriteSshConfigPaths(identity.files.ssh_config!, '/run/machine-id', new Set(Object.keys(identity.files)));
 */
export function rewriteSshConfigPaths(sshConfig: string, dir: string, files: ReadonlySet<string>): string {
  if (!path.isAbsolute(dir) || /["\\\x00-\x1f\x7f]/.test(dir)) {
    throw new IdentityWriteError(
      `the folder ${JSON.stringify(dir)} cannot be written into ssh_config: use an absolute path without quotes, backslashes or control characters`,
    );
  }
  const bare = dir.replace(/\/+$/, '');
  // `%` starts an OpenSSH token in these directives; `%%` is a literal one.
  const quoted = bare.replaceAll('%', '%%');
  return sshConfig
    .split('\n')
    .map((line) => {
      const usage = USAGE_COMMENT.exec(line);
      if (usage) return `# Use: ssh -F ${bare}/ssh_config${usage[1] ?? ''}`;
      const match = PATH_DIRECTIVE.exec(line);
      if (!match) return line;
      const value = match[4] ?? match[5] ?? '';
      const base = value.slice(value.lastIndexOf('/') + 1);
      if (!files.has(base)) return line;
      return `${match[1]}${match[2]}${match[3]}"${quoted}/${base}"`;
    })
    .join('\n');
}
