import type { OutputCertificatesResponse } from '../../api/output-certificates.js';
import type { ArtifactFile } from '../destinations/destination.js';
import { withNewline } from './render-identity-file.js';
import type { OutputKeys } from './render-input.js';
import { checkResponseKind, requirePart } from './response-parts.js';
import { sshKeyFields } from './ssh-names.js';

/**
 * The ssh_host output, for an OpenSSH server:
 *
 * ```
 * HostKey /opt/machine-id/ssh_host
 * HostCertificate /opt/machine-id/ssh_host-cert.pub
 * TrustedUserCAKeys /opt/machine-id/ssh_host-user-ca.pub
 * ```
 *
 * sshd reads the PEM private key (ECDSA, RSA) directly.
 */
export function renderSshHostOutput(response: OutputCertificatesResponse, keys: OutputKeys): ArtifactFile[] {
  checkResponseKind(response, 'ssh_host');
  const hostCert = requirePart(response.ssh_cert, 'SSH host certificate', 'ssh_host');
  sshKeyFields(hostCert, 'an SSH host certificate');
  const userCas = response.ca.ssh_user_ca_keys
    .map((line) => {
      const { type, blob } = sshKeyFields(line, 'an SSH user CA key');
      return `${type} ${blob} ${response.cluster_name} user CA\n`;
    })
    .join('');
  return [
    { name: 'ssh_host', data: withNewline(keys.privateKeyPem), secret: true },
    { name: 'ssh_host-cert.pub', data: withNewline(hostCert.trim()), secret: false },
    { name: 'ssh_host-user-ca.pub', data: userCas, secret: false },
  ];
}
