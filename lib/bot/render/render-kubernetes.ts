import type { OutputCertificatesResponse } from '../../api/output-certificates.js';
import type { ArtifactFile } from '../destinations/destination.js';
import { renderIdentityFile, withNewline } from './render-identity-file.js';
import type { OutputKeys } from './render-input.js';
import { renderKnownHosts } from './render-known-hosts.js';
import { renderKubeconfig } from './render-kubeconfig.js';
import { checkResponseKind, distinct, requirePart } from './response-parts.js';

/** The kubernetes output: `kubeconfig.yaml` with embedded credentials, plus `tlscert`, `key`, `tlscacerts`, `identity`. */
export function renderKubernetesOutput(
  response: OutputCertificatesResponse,
  keys: OutputKeys,
): ArtifactFile[] {
  checkResponseKind(response, 'kubernetes');
  const tlsCert = withNewline(requirePart(response.tls_cert, 'TLS certificate', 'kubernetes'));
  const kube = requirePart(response.kubernetes, 'Kubernetes cluster details', 'kubernetes');
  const key = withNewline(keys.privateKeyPem);
  const kubeconfig = renderKubeconfig({
    clusterName: kube.cluster_name,
    server: kube.api_server,
    caCertPem: kube.ca_cert,
    tlsServerName: kube.tls_server_name,
    clientCertPem: tlsCert,
    clientKeyPem: key,
    tbotContextName: `${response.cluster_name}-${kube.cluster_name}`,
  });
  const identity = renderIdentityFile({
    privateKeyPem: key,
    sshCert: response.ssh_cert,
    tlsCertPem: tlsCert,
    knownHostsLines: renderKnownHosts(response.cluster_name, response.ca.ssh_host_ca_keys, []),
    tlsCaPems: distinct([...response.ca.tls_host_ca_certs, ...response.ca.tls_user_ca_certs]),
  });
  return [
    // Embeds the private key, so it is as secret as `key`.
    { name: 'kubeconfig.yaml', data: kubeconfig, secret: true },
    { name: 'tlscert', data: tlsCert, secret: false },
    { name: 'key', data: key, secret: true },
    { name: 'tlscacerts', data: distinct(response.ca.tls_user_ca_certs).join(''), secret: false },
    { name: 'identity', data: identity, secret: true },
  ];
}
