import * as z from 'zod';
import {
  certificatePem,
  clusterCasSchema,
  isoTime,
  name,
  publicKeyPem,
  sshLine,
  ttlSeconds,
} from './wire-schemas.js';

export const outputKinds = ['identity', 'application', 'kubernetes', 'ssh_host'] as const;
export type OutputKind = (typeof outputKinds)[number];

/** A bot asks for the certificates of one output, for a key pair it generated for that output. */
export const outputCertificatesRequestSchema = z.strictObject({
  output: z.enum(outputKinds),
  public_key: publicKeyPem,
  /** A subset of the bot's roles; all of them when absent. */
  roles: z.array(name).max(64).optional(),
  ttl_seconds: ttlSeconds.optional(),
  app_name: name.optional(),
  kubernetes_cluster: name.optional(),
  principals: z.array(name).min(1).max(64).optional(),
});
export type OutputCertificatesRequest = z.infer<typeof outputCertificatesRequestSchema>;

export const sshNodeSchema = z.strictObject({
  name: z.string(),
  hostname: z.string(),
  addr: z.string(),
});
export type SshNode = z.infer<typeof sshNodeSchema>;

export const outputCertificatesResponseSchema = z.strictObject({
  output: z.enum(outputKinds),
  cluster_name: z.string(),
  bot_name: z.string(),
  roles: z.array(z.string()),
  serial: z.string(),
  issued_at: isoTime,
  expires_at: isoTime,
  /** X.509 client certificate (identity, application, kubernetes). */
  tls_cert: certificatePem.optional(),
  /** OpenSSH user certificate (identity) or host certificate (ssh_host). */
  ssh_cert: sshLine.optional(),
  ca: clusterCasSchema,
  /** identity: the login names the certificate allows and the OpenSSH nodes the roles can reach. */
  ssh: z.strictObject({ logins: z.array(z.string()), nodes: z.array(sshNodeSchema) }).optional(),
  app: z.strictObject({ name: z.string(), uri: z.string(), public_addr: z.string().optional() }).optional(),
  kubernetes: z
    .strictObject({
      cluster_name: z.string(),
      api_server: z.string(),
      ca_cert: certificatePem,
      tls_server_name: z.string().optional(),
      user: z.string(),
      groups: z.array(z.string()),
    })
    .optional(),
});
export type OutputCertificatesResponse = z.infer<typeof outputCertificatesResponseSchema>;

/**
 * Most outputs one batch may ask for; an agent with more sends several batches. Keeps a request well
 * under the body limit and an answer well under API Gateway's.
 */
export const MAX_OUTPUTS_PER_BATCH = 32;

/**
 * A bot asks for the certificates of several outputs in one call (`POST /v1/bot/certificates/batch`):
 * one authentication, the roles and resources read once, one round trip. Each output has its own key.
 */
export const outputCertificatesBatchRequestSchema = z.strictObject({
  outputs: z.array(outputCertificatesRequestSchema).min(1).max(MAX_OUTPUTS_PER_BATCH),
});
export type OutputCertificatesBatchRequest = z.infer<typeof outputCertificatesBatchRequestSchema>;

/** What one output of a batch got: its certificates, or the refusal the single call would have given. */
export const outputResultSchema = z.union([
  z.strictObject({ certificates: outputCertificatesResponseSchema }),
  z.strictObject({
    error: z.strictObject({
      code: z.string(),
      message: z.string(),
      /** The HTTP status the single-output call answers this refusal with. */
      status: z.number().int().min(400).max(499),
    }),
  }),
]);
export type OutputResult = z.infer<typeof outputResultSchema>;

/** The answers in the order of the request's outputs. A failure of the service fails the whole call. */
export const outputCertificatesBatchResponseSchema = z.strictObject({
  outputs: z.array(outputResultSchema).max(MAX_OUTPUTS_PER_BATCH),
});
export type OutputCertificatesBatchResponse = z.infer<typeof outputCertificatesBatchResponseSchema>;

export { clusterCasSchema };
