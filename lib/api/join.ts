import * as z from 'zod';
import { certificatePem, isoTime, name, publicKeyPem, ttlSeconds } from './wire-schemas.js';

export const joinChallengeResponseSchema = z.strictObject({
  challenge: z.string(),
  expires_at: isoTime,
});
export type JoinChallengeResponse = z.infer<typeof joinChallengeResponseSchema>;

/**
 * The parts of a signed `sts:GetCallerIdentity` request, as the agent signed it. The server treats them
 * as input to checks and rebuilds the outbound request itself; it never replays them.
 */
export const signedStsRequestSchema = z.strictObject({
  method: z.string().max(16),
  url: z.string().max(512),
  /**
   * Header pairs in the order sent; a list (not a map) so that duplicates can be seen and refused.
   * AWS fixes no size for session tokens (`x-amz-security-token`), so values get room to spare; the
   * 64 KiB body limit bounds the whole.
   */
  headers: z.array(z.tuple([z.string().max(128), z.string().max(16_384)])).max(32),
  body: z.string().max(1024),
});
export type SignedStsRequest = z.infer<typeof signedStsRequestSchema>;

export const joinRequestSchema = z.strictObject({
  join_method: z.enum(['token', 'iam']),
  /** The token's name: for `token` it is the secret, for `iam` it names the allow rules. */
  token: name,
  /** The public key the bot identity certificates are issued for (PEM SubjectPublicKeyInfo). */
  public_key: publicKeyPem,
  iam: signedStsRequestSchema.optional(),
  /** An IAM bot that still holds a valid bot certificate presents it to continue its instance. */
  previous_certificate: certificatePem.optional(),
  /** How long the bot identity should live (its `certificate_ttl`); 1 h when absent, capped by the roles. */
  ttl_seconds: ttlSeconds.optional(),
});
export type JoinRequest = z.infer<typeof joinRequestSchema>;
