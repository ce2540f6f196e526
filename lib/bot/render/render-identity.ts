import type { OutputCertificatesResponse } from '../../api/output-certificates.js';
import { ConfigError } from '../../core/errors.js';
import type { ArtifactFile } from '../destinations/destination.js';
import { renderIdentityFile, withNewline } from './render-identity-file.js';
import type { OutputKeys, RenderOptions } from './render-input.js';
import { renderKnownHosts, renderSshCaCerts } from './render-known-hosts.js';
import { renderSshConfig } from './render-ssh-config.js';
import { checkResponseKind, distinct, requirePart } from './response-parts.js';
import { sshKeyFields } from './ssh-names.js';

/**
 * The identity output, with tbot's file names: `identity`, `key`, `key.pub`, `key-cert.pub`,
 * `tlscert`, `tlscacerts`, `sshcacerts`, `known_hosts`, `ssh_config`.
 */
export function renderIdentityOutput(
  response: OutputCertificatesResponse,
  keys: OutputKeys,
  options: RenderOptions,
): ArtifactFile[] {
  checkResponseKind(response, 'identity');
  const tlsCert = requirePart(response.tls_cert, 'TLS certificate', 'identity');
  const sshCert = requirePart(response.ssh_cert, 'SSH certificate', 'identity');
  if (options.artifactDir === undefined) {
    throw new ConfigError(
      'artifact_dir_required',
      'the identity output needs the folder its files will be read from, to write it into ssh_config',
    );
  }
  sshKeyFields(sshCert, 'an SSH certificate');
  const nodes = response.ssh?.nodes ?? [];
  const knownHosts = renderKnownHosts(response.cluster_name, response.ca.ssh_host_ca_keys, nodes);
  const tlsUserCas = distinct(response.ca.tls_user_ca_certs);
  const identity = renderIdentityFile({
    privateKeyPem: keys.privateKeyPem,
    sshCert,
    tlsCertPem: tlsCert,
    knownHostsLines: knownHosts,
    tlsCaPems: distinct([...response.ca.tls_host_ca_certs, ...response.ca.tls_user_ca_certs]),
  });
  return [
    { name: 'identity', data: identity, secret: true },
    { name: 'key', data: withNewline(keys.privateKeyPem), secret: true },
    { name: 'key.pub', data: withNewline(keys.sshPublicKey.trim()), secret: false },
    { name: 'key-cert.pub', data: withNewline(sshCert.trim()), secret: false },
    { name: 'tlscert', data: withNewline(tlsCert), secret: false },
    { name: 'tlscacerts', data: tlsUserCas.join(''), secret: false },
    {
      name: 'sshcacerts',
      data: renderSshCaCerts(response.cluster_name, response.ca.ssh_user_ca_keys),
      secret: false,
    },
    { name: 'known_hosts', data: knownHosts, secret: false },
    {
      name: 'ssh_config',
      data: renderSshConfig({ cluster: response.cluster_name, nodes, artifactDir: options.artifactDir }),
      secret: false,
    },
  ];
}
