import type { AdminApi } from '../admin-api.js';

/** `midctl status`, laid out like `tctl status`. */
export async function showStatus(api: AdminApi, format: 'text' | 'json'): Promise<string> {
  const status = await api.status();
  // The address midctl reached, as the text output shows it: the service does not know its own.
  if (format === 'json')
    return `${JSON.stringify({ ...status, auth_server: api.client.baseUrl }, null, 2)}\n`;
  const counts = Object.entries(status.counts)
    .map(([name, count]) => `${name}=${count}`)
    .join(' ');
  return [
    `Cluster      ${status.cluster_name}`,
    `Version      ${status.server_version}`,
    `Suite        ${status.signature_suite}`,
    `CA pin       ${status.ca_pin}`,
    `Auth server  ${api.client.baseUrl}`,
    `Resources    ${counts}`,
    '',
  ].join('\n');
}
