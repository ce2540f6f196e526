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

export { clusterCasSchema };
