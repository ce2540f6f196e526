import { createHash, type KeyObject, sign, timingSafeEqual, verify } from 'node:crypto';
import { AuthenticationError } from '../core/errors.js';

/**
 * Bot calls are authenticated by the bot's certificate plus a signature over the request made with the
 * bot's private key. The signature covers method, path, a timestamp (checked for freshness), a nonce
 * (single use, so a captured request cannot be replayed) and the body's SHA-256. It works the same
 * behind API Gateway, where TLS client certificates are not available, and locally.
 */
export const BOT_AUTH_HEADERS = {
  certificate: 'x-mid-bot-certificate',
  timestamp: 'x-mid-timestamp',
  nonce: 'x-mid-nonce',
  signature: 'x-mid-signature',
} as const;

const SCHEME = 'MID-BOT-SIG-V1';

export interface BotRequestParts {
  readonly method: string;
  readonly path: string;
  /** Milliseconds since the epoch, as a decimal string on the wire. */
  readonly timestamp: number;
  readonly nonce: string;
  readonly body: Uint8Array;
}

export function botSigningString(parts: BotRequestParts): Buffer {
  const bodyHash = createHash('sha256').update(parts.body).digest('hex');
  return Buffer.from(
    [SCHEME, parts.method.toUpperCase(), parts.path, String(parts.timestamp), parts.nonce, bodyHash].join(
      '\n',
    ),
  );
}

/** Ed25519 signs the message itself; ECDSA and RSA sign its SHA-256. */
function digestFor(key: KeyObject): string | null {
  return key.asymmetricKeyType === 'ed25519' ? null : 'sha256';
}

export function signBotRequest(
  parts: BotRequestParts,
  certificateDer: Buffer,
  privateKey: KeyObject,
): Record<string, string> {
  const signature = sign(digestFor(privateKey), botSigningString(parts), privateKey);
  return {
    [BOT_AUTH_HEADERS.certificate]: certificateDer.toString('base64'),
    [BOT_AUTH_HEADERS.timestamp]: String(parts.timestamp),
    [BOT_AUTH_HEADERS.nonce]: parts.nonce,
    [BOT_AUTH_HEADERS.signature]: signature.toString('base64'),
  };
}

export interface BotAuthHeaders {
  readonly certificateDer: Buffer;
  readonly timestamp: number;
  readonly nonce: string;
  readonly signature: Buffer;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const NONCE = /^[0-9a-f]{32}$/;

/**
 * Base64 exactly as the agent writes it. Node's decoder skips what it cannot use (a stray or missing
 * character, unused bits), so one header could be written several ways; only the canonical writing,
 * which decodes and encodes back to the same text, is accepted.
 */
function isCanonicalBase64(text: string): boolean {
  return BASE64.test(text) && Buffer.from(text, 'base64').toString('base64') === text;
}

function refuse(message: string): never {
  throw new AuthenticationError('bot_auth_malformed', message);
}

/** Reads the four headers strictly; any missing or malformed one is an authentication failure. */
export function parseBotAuthHeaders(headers: Readonly<Record<string, string | undefined>>): BotAuthHeaders {
  const certificate = headers[BOT_AUTH_HEADERS.certificate];
  const timestamp = headers[BOT_AUTH_HEADERS.timestamp];
  const nonce = headers[BOT_AUTH_HEADERS.nonce];
  const signature = headers[BOT_AUTH_HEADERS.signature];
  if (
    certificate === undefined ||
    timestamp === undefined ||
    nonce === undefined ||
    signature === undefined
  ) {
    throw new AuthenticationError(
      'bot_auth_missing',
      `bot routes need the ${Object.values(BOT_AUTH_HEADERS).join(', ')} headers; use midbot or the agent library to call them`,
    );
  }
  if (certificate.length > 12_000 || !isCanonicalBase64(certificate))
    refuse(`${BOT_AUTH_HEADERS.certificate} is not base64 DER`);
  // Thirteen digits, no leading zero: the one writing of a time from 2001 to 2286.
  if (!/^[1-9]\d{12}$/.test(timestamp))
    refuse(`${BOT_AUTH_HEADERS.timestamp} must be milliseconds since the epoch`);
  if (!NONCE.test(nonce)) refuse(`${BOT_AUTH_HEADERS.nonce} must be 32 lowercase hex characters`);
  if (signature.length > 1_024 || !isCanonicalBase64(signature))
    refuse(`${BOT_AUTH_HEADERS.signature} is not base64`);
  return {
    certificateDer: Buffer.from(certificate, 'base64'),
    timestamp: Number(timestamp),
    nonce,
    signature: Buffer.from(signature, 'base64'),
  };
}

export function verifyBotRequestSignature(
  parts: BotRequestParts,
  signature: Buffer,
  publicKey: KeyObject,
): boolean {
  try {
    return verify(digestFor(publicKey), botSigningString(parts), publicKey, signature);
  } catch {
    return false;
  }
}

/** Constant-time comparison for secrets held as strings. */
export function secretsEqual(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
