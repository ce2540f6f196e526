import type { AdminApi } from '../admin-api.js';
import { botFacingAddress, type ServedAddresses } from '../bot-facing-address.js';

/**
 * `midctl status`, laid out like `tctl status`. The auth server is given as bots should reach it (the
 * first `--public-addr` of a local service, as `bots add` gives it), with the address midctl itself
 * used when that differs: the service does not know its own address.
 */
export async function showStatus(
  api: AdminApi,
  format: 'text' | 'json',
  served?: ServedAddresses,
): Promise<string> {
  const status = await api.status();
  const reached = api.client.baseUrl;
  const { url } = botFacingAddress(reached, served);
  if (format === 'json') {
    return `${JSON.stringify({ ...status, auth_server: url, ...(url === reached ? {} : { admin_url: reached }) }, null, 2)}\n`;
  }
  const counts = Object.entries(status.counts)
    .map(([name, count]) => `${name}=${count}`)
    .join(' ');
  return [
    `Cluster      ${status.cluster_name}`,
    `Version      ${status.server_version}`,
    `Suite        ${status.signature_suite}`,
    `CA pin       ${status.ca_pin}`,
    `Auth server  ${url}${url === reached ? '' : ` (midctl uses ${reached} on this host)`}`,
    `Resources    ${counts}`,
    '',
  ].join('\n');
}
