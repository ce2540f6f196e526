import * as z from 'zod';

/**
 * Building blocks shared by the request and response schemas of the agent ↔ auth service wire.
 * Limits here are what the server will ever accept; they keep hostile bodies cheap to refuse.
 */
export const pem = (label: string) =>
  z
    .string()
    .max(16_384)
    .refine((text) => text.includes(`-----BEGIN ${label}-----`), `expected a PEM ${label}`);

export const publicKeyPem = pem('PUBLIC KEY');
export const certificatePem = pem('CERTIFICATE');
export const sshLine = z
  .string()
  .min(1)
  .max(16_384)
  .regex(/^[^\r\n]+$/, 'expected one line of OpenSSH text');
export const name = z.string().min(1).max(253);
export const isoTime = z.iso.datetime({ offset: true });
/** The longest lifetime anything asked for over the API may have: join tokens, output certificates. */
export const MAX_TTL_SECONDS = 366 * 86_400;
export const ttlSeconds = z
  .number()
  .int('expected whole seconds')
  .positive('expected a positive TTL')
  .max(MAX_TTL_SECONDS);

/** The CA material a bot needs to trust the cluster and to render known_hosts and tlscacerts. */
export const clusterCasSchema = z.strictObject({
  tls_user_ca_certs: z.array(certificatePem).min(1).max(8),
  tls_host_ca_certs: z.array(certificatePem).max(8),
  ssh_user_ca_keys: z.array(sshLine).min(1).max(8),
  ssh_host_ca_keys: z.array(sshLine).min(1).max(8),
});
export type ClusterCas = z.infer<typeof clusterCasSchema>;
