import { X509Certificate } from 'node:crypto';
import * as z from 'zod';
import { builtOnFirstUse } from '../core/built-on-first-use.js';
import { dnsNameSchema, urlProblem } from './fields.js';
import { metadataSchema } from './metadata.js';
import { checkedString } from './text.js';

export const KUBE_CLUSTER_VERSIONS = ['v3'] as const;

const MAX_PEM = 64 * 1024;
const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;

/**
 * What is wrong with a PEM bundle of CA certificates, or undefined. Messages never quote the text: a
 * private key pasted here by mistake must not travel on into an error or a log.
 */
export function caCertificatesProblem(pem: string): string | undefined {
  const hint =
    'paste the PEM of the CA that signed the API server certificate (-----BEGIN CERTIFICATE----- ...)';
  if (pem.length > MAX_PEM) return `the bundle is over ${MAX_PEM / 1024} KiB; ${hint}`;
  const blocks = [...pem.matchAll(PEM_BLOCK)];
  if (blocks.length === 0) return `no PEM certificate found; ${hint}`;
  for (const [index, block] of blocks.entries()) {
    const label = block[1] as string;
    if (label !== 'CERTIFICATE') {
      return `PEM block ${index + 1} is a ${label}, not a CERTIFICATE${label.includes('PRIVATE') ? ' (never share a private key; replace it now if it was)' : ''}; ${hint}`;
    }
    try {
      new X509Certificate(block[0]);
    } catch {
      return `PEM block ${index + 1} is not a valid X.509 certificate; ${hint}`;
    }
  }
  const leftover = pem.replace(PEM_BLOCK, '').trim();
  if (leftover !== '') return `there is text outside the PEM blocks; ${hint}`;
  return undefined;
}

/** A Kubernetes cluster (`kind: kube_cluster`, version v3) that `kubernetes` outputs write kubeconfigs for. */
export const kubeClusterSchema = builtOnFirstUse(() =>
  z.strictObject({
    kind: z.literal('kube_cluster'),
    version: z.enum(KUBE_CLUSTER_VERSIONS),
    metadata: metadataSchema,
    spec: z.strictObject({
      /** The API server, an https URL. */
      api_server: checkedString((value) => urlProblem(value, ['https:'])),
      /** PEM of the CA the API server's certificate chains to (one or more certificates). */
      ca_cert: checkedString(caCertificatesProblem),
      /** Name to verify the API server certificate against when it differs from the URL's host. */
      tls_server_name: dnsNameSchema.optional(),
    }),
  }),
);

/** A Kubernetes cluster. */
export type KubeCluster = z.infer<typeof kubeClusterSchema>;
