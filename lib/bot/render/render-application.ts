import type { OutputCertificatesResponse } from '../../api/output-certificates.js';
import type { ArtifactFile } from '../destinations/destination.js';
import { withNewline } from './render-identity-file.js';
import type { OutputKeys, RenderOptions } from './render-input.js';
import { checkResponseKind, distinct, requirePart } from './response-parts.js';

/**
 * The application output: `tlscert`, `key`, `tlscacerts`; with `specific_tls_naming` also
 * `tls.crt`, `tls.key`, `tls.cas` with identical content, for clients that insist on those names.
 */
export function renderApplicationOutput(
  response: OutputCertificatesResponse,
  keys: OutputKeys,
  options: RenderOptions,
): ArtifactFile[] {
  checkResponseKind(response, 'application');
  const cert = withNewline(requirePart(response.tls_cert, 'TLS certificate', 'application'));
  const key = withNewline(keys.privateKeyPem);
  const cas = distinct(response.ca.tls_user_ca_certs).join('');
  const files: ArtifactFile[] = [
    { name: 'tlscert', data: cert, secret: false },
    { name: 'key', data: key, secret: true },
    { name: 'tlscacerts', data: cas, secret: false },
  ];
  if (options.specificTlsNaming) {
    files.push(
      { name: 'tls.crt', data: cert, secret: false },
      { name: 'tls.key', data: key, secret: true },
      { name: 'tls.cas', data: cas, secret: false },
    );
  }
  return files;
}
