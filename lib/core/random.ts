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
