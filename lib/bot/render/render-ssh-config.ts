import type { SshNode } from '../../api/output-certificates.js';
import { ConfigError } from '../../core/errors.js';
import { checkHostName, nodeAlias, parseSshAddress } from './ssh-names.js';

/** What the SSH host CA signs: Ed25519 and ECDSA keys, and RSA with SHA-2 in the legacy suite. */
export const HOST_KEY_ALGORITHMS = [
  'ssh-ed25519-cert-v01@openssh.com',
  'ecdsa-sha2-nistp256-cert-v01@openssh.com',
  'rsa-sha2-512-cert-v01@openssh.com',
  'rsa-sha2-256-cert-v01@openssh.com',
];

export interface SshConfigInput {
  readonly cluster: string;
  readonly nodes: readonly SshNode[];
  /** Absolute folder holding `key`, `key-cert.pub` and `known_hosts`. */
  readonly artifactDir: string;
}

/**
 * `ssh_config` for plain OpenSSH (no proxy): `ssh -F <dir>/ssh_config root@node1.<cluster>`.
 *
 * Each known node gets a `Host <hostname>.<cluster>` block with its address and a HostKeyAlias, so
 * that OpenSSH checks the host certificate against `*.<cluster>` in known_hosts whatever address it
 * dials. Those blocks come before the wildcard block because OpenSSH keeps the first value it finds.
 * Only certificate host key algorithms are offered: a host without a certificate from the cluster's
 * host CA is refused rather than trusted on first use.
 */
export function renderSshConfig(input: SshConfigInput): string {
  const cluster = checkHostName(input.cluster, 'the cluster name');
  const dir = quotablePath(input.artifactDir);
  const lines = [
    `# Written by midbot for cluster ${cluster}; replaced on every renewal, do not edit.`,
    `# Use: ssh -F ${dir}/ssh_config <login>@<node>.${cluster}`,
    '',
  ];
  const seen = new Set<string>();
  for (const node of input.nodes) {
    const alias = nodeAlias(checkHostName(node.hostname, 'the node hostname'), cluster);
    if (seen.has(alias)) continue;
    seen.add(alias);
    const { host, port } = parseSshAddress(node.addr, `the address of node ${node.hostname}`);
    lines.push(`Host ${alias}`, `    HostName ${host}`, `    Port ${port}`, `    HostKeyAlias ${alias}`, '');
  }
  lines.push(
    `Host *.${cluster}`,
    `    UserKnownHostsFile "${dir}/known_hosts"`,
    `    IdentityFile "${dir}/key"`,
    `    CertificateFile "${dir}/key-cert.pub"`,
    '    IdentitiesOnly yes',
    '    StrictHostKeyChecking yes',
    `    HostKeyAlgorithms ${HOST_KEY_ALGORITHMS.join(',')}`,
    '',
  );
  return lines.join('\n');
}

/**
 * The folder as it can sit inside double quotes in ssh_config: `%` is OpenSSH's token character
 * (escaped as `%%`); a quote or control character cannot be written at all.
 */
function quotablePath(dir: string): string {
  if (!dir.startsWith('/') || /["\\\x00-\x1f\x7f]/.test(dir)) {
    throw new ConfigError(
      'invalid_artifact_dir',
      `the output folder ${JSON.stringify(dir)} cannot be written into ssh_config: use an absolute path without quotes, backslashes or control characters`,
    );
  }
  return dir.replace(/\/+$/, '').replaceAll('%', '%%');
}
