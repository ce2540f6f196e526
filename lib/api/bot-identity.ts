import * as z from 'zod';
import {
  certificatePem,
  clusterCasSchema,
  isoTime,
  publicKeyPem,
  sshLine,
  ttlSeconds,
} from './wire-schemas.js';

/** Answer to a join or a renewal: the bot's own identity, used to call the bot routes. */
export const botIdentityResponseSchema = z.strictObject({
  cluster_name: z.string(),
  bot_name: z.string(),
  instance_id: z.string(),
  generation: z.number().int().nonnegative(),
  /** Token-joined identities renew; IAM-joined ones join again on every run. */
  renewable: z.boolean(),
  roles: z.array(z.string()),
  tls_cert: certificatePem,
  ssh_cert: sshLine,
  serial: z.string(),
  issued_at: isoTime,
  expires_at: isoTime,
  ca: clusterCasSchema,
});
export type BotIdentityResponse = z.infer<typeof botIdentityResponseSchema>;

export const renewRequestSchema = z.strictObject({
  public_key: publicKeyPem,
  /** How long the renewed identity should live (the bot's `certificate_ttl`); 1 h when absent. */
  ttl_seconds: ttlSeconds.optional(),
});
export type RenewRequest = z.infer<typeof renewRequestSchema>;
