import type { ClusterCas } from '../api/wire-schemas.js';
import type { CertificateAuthorities } from './certificate-authorities.js';

/** The public half of the cluster's CAs, as bots receive it. */
export function describeClusterCas(cas: CertificateAuthorities): ClusterCas {
  return {
    tls_user_ca_certs: [cas.tlsUser.certificatePem],
    tls_host_ca_certs: [cas.tlsHost.certificatePem],
    ssh_user_ca_keys: [cas.sshUser.publicKeyLine],
    ssh_host_ca_keys: [cas.sshHost.publicKeyLine],
  };
}
