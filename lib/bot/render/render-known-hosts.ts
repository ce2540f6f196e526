import type { SshNode } from '../../api/output-certificates.js';
import { checkHostName, parseSshAddress, sshKeyFields } from './ssh-names.js';

/**
 * Host name patterns the SSH host CA is trusted for: every host of the cluster (`*.<cluster>`, the
 * names ssh_config uses through HostKeyAlias), plus each node's own hostname and address so that
 * `ssh` without our ssh_config can check host certificates too. OpenSSH looks a non-22 port up as
 * `[host]:port`, so that form is listed as well.
 */
export function knownHostsPatterns(cluster: string, nodes: readonly SshNode[]): string[] {
  const patterns = [`*.${checkHostName(cluster, 'the cluster name')}`];
  for (const node of nodes) {
    patterns.push(checkHostName(node.hostname, 'the node hostname'));
    const { host, port } = parseSshAddress(node.addr, `the address of node ${node.hostname}`);
    patterns.push(host);
    if (port !== 22) patterns.push(`[${host}]:${port}`);
  }
  return [...new Set(patterns)];
}

/**
 * `known_hosts`: one `@cert-authority` line per SSH host CA key (several during a CA rotation), so
 * that OpenSSH accepts host certificates signed by the cluster's host CA for the names above.
 */
export function renderKnownHosts(
  cluster: string,
  hostCaKeys: readonly string[],
  nodes: readonly SshNode[],
): string {
  const patterns = knownHostsPatterns(cluster, nodes).join(',');
  return hostCaKeys
    .map((line) => {
      const { type, blob } = sshKeyFields(line, 'an SSH host CA key');
      return `@cert-authority ${patterns} ${type} ${blob} type=host\n`;
    })
    .join('');
}

/** `sshcacerts`: the SSH user CA keys as `cert-authority` authorized_keys lines. */
export function renderSshCaCerts(cluster: string, userCaKeys: readonly string[]): string {
  const name = checkHostName(cluster, 'the cluster name');
  return userCaKeys
    .map((line) => {
      const { type, blob } = sshKeyFields(line, 'an SSH user CA key');
      return `cert-authority ${type} ${blob} clustername=${name}&type=user\n`;
    })
    .join('');
}
