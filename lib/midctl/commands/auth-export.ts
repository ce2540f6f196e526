import { renderKnownHosts } from '../../bot/render/render-known-hosts.js';
import type { AdminApi } from '../admin-api.js';

/** What `midctl auth export --type` prints, as `tctl auth export` names them. */
export const EXPORT_TYPES = ['user', 'host', 'tls-user', 'tls-host'] as const;
export type ExportType = (typeof EXPORT_TYPES)[number];

/**
 * `midctl auth export` (tctl auth export): the public half of a CA, in the form the server that must
 * trust it reads.
 *
 * - `user`: the SSH user CA keys, one OpenSSH public key per line, for sshd's `TrustedUserCAKeys`
 *   (tctl prints them as `cert-authority` lines that its guides strip with sed; these need nothing).
 * - `host`: `@cert-authority *.<cluster> …` lines for a client's known_hosts.
 * - `tls-user` / `tls-host`: the PEM certificates of the CAs that sign bots' and apps' client
 *   certificates, and hosts' server certificates.
 * - no type: both SSH CAs as tctl prints them without one: the host CA's `@cert-authority` lines, then
 *   the user CA's keys as `cert-authority` lines (an `authorized_keys` file takes those as they are).
 */
export async function exportCas(api: AdminApi, type: ExportType | undefined): Promise<string> {
  const { cluster_name: cluster, cas } = await api.cas();
  switch (type) {
    case undefined:
      return (
        renderKnownHosts(cluster, cas.ssh_host_ca_keys, []) +
        cas.ssh_user_ca_keys.map((line) => `cert-authority ${line.trim()}\n`).join('')
      );
    case 'user':
      return cas.ssh_user_ca_keys.map((line) => `${line.trim()}\n`).join('');
    case 'host':
      return renderKnownHosts(cluster, cas.ssh_host_ca_keys, []);
    case 'tls-user':
      return cas.tls_user_ca_certs.join('');
    case 'tls-host':
      return cas.tls_host_ca_certs.join('');
  }
}
