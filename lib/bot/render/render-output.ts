import type { OutputCertificatesResponse, OutputKind } from '../../api/output-certificates.js';
import type { ArtifactFile } from '../destinations/destination.js';
import { renderApplicationOutput } from './render-application.js';
import { renderIdentityOutput } from './render-identity.js';
import type { OutputKeys, RenderOptions } from './render-input.js';
import { renderKubernetesOutput } from './render-kubernetes.js';
import { renderSshHostOutput } from './render-ssh-host.js';

export type { OutputKeys, RenderOptions } from './render-input.js';

/**
 * Turns the auth service's answer for one output, and the key pair the bot made for it, into the
 * files tbot would write for that kind of output. Pure: no I/O, no clock.
 *
 * @example
 * const files = renderOutput('identity', response, { privateKeyPem, sshPublicKey }, { artifactDir: '/opt/machine-id' });
 * await new DirectoryDestination('/opt/machine-id').write(files);
 */
export function renderOutput(
  kind: OutputKind,
  response: OutputCertificatesResponse,
  keys: OutputKeys,
  options: RenderOptions = {},
): ArtifactFile[] {
  switch (kind) {
    case 'identity':
      return renderIdentityOutput(response, keys, options);
    case 'application':
      return renderApplicationOutput(response, keys, options);
    case 'kubernetes':
      return renderKubernetesOutput(response, keys);
    case 'ssh_host':
      return renderSshHostOutput(response, keys);
  }
}
