import * as z from 'zod';
import { type BotIdentityResponse, botIdentityResponseSchema } from '../../api/bot-identity.js';
import { StorageError } from '../../core/errors.js';
import { parseWithSchema } from '../../core/schema.js';

/** The file name of the bot's renewable identity inside `storage.path`. */
export const STORED_IDENTITY_FILE = 'bot-identity.json';

/**
 * The bot's own identity as kept between runs: the auth service's answer, the private key it was
 * issued for, and the fingerprint of the onboarding (token) that started it. One file, so that the
 * certificate and its key are always replaced together.
 */
export interface StoredIdentity {
  readonly identity: BotIdentityResponse;
  readonly privateKeyPem: string;
  /** See `JoinProofProvider.fingerprint`. */
  readonly onboardingFingerprint: string;
}

const storedIdentitySchema = z.strictObject({
  version: z.literal(1),
  onboarding_fingerprint: z.string().max(200),
  identity: botIdentityResponseSchema,
  private_key_pem: z
    .string()
    .max(16_384)
    .refine((text) => /-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(text), 'expected a PEM private key'),
});

export function serializeStoredIdentity(stored: StoredIdentity): string {
  return `${JSON.stringify(
    {
      version: 1,
      onboarding_fingerprint: stored.onboardingFingerprint,
      identity: stored.identity,
      private_key_pem: stored.privateKeyPem,
    },
    null,
    2,
  )}\n`;
}

/** @throws StorageError `invalid_stored_identity` naming the file and the field, never the key. */
export function parseStoredIdentity(text: string, source: string): StoredIdentity {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new StorageError('invalid_stored_identity', `${source} is not JSON`);
  }
  const parsed = parseWithSchema(storedIdentitySchema, json, {
    root: source,
    code: 'invalid_stored_identity',
    redact: ['private_key_pem', 'tls_cert', 'ssh_cert'],
    error: (code, message) => new StorageError(code, message),
  });
  return {
    identity: parsed.identity,
    privateKeyPem: parsed.private_key_pem,
    onboardingFingerprint: parsed.onboarding_fingerprint,
  };
}
