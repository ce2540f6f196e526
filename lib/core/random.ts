import { randomBytes } from 'node:crypto';

/** The source of randomness for domain code (serials, tokens, challenges), passed in so tests can fix it. */
export interface Random {
  bytes(length: number): Buffer;
}

export const secureRandom: Random = { bytes: (length) => randomBytes(length) };

/** Random hex string of `byteLength` random bytes. */
export function randomHex(random: Random, byteLength: number): string {
  return random.bytes(byteLength).toString('hex');
}

/** A version-4 UUID built from `random` (so tests with a fixed source get fixed ids). */
export function randomUuid(random: Random): string {
  const bytes = random.bytes(16);
  bytes[6] = ((bytes[6] as number) & 0x0f) | 0x40;
  bytes[8] = ((bytes[8] as number) & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
