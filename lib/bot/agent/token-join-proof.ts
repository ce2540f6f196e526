import { createHash } from 'node:crypto';
import type { BotApiClient } from '../auth-client/bot-api-client.js';
import type { JoinProof, JoinProofProvider } from './join-proof-provider.js';

/** The `token` join method: the single-use secret printed by `midctl bots add` is the whole proof. */
export class TokenJoinProof implements JoinProofProvider {
  readonly method = 'token' as const;
  readonly fingerprint: string;

  constructor(private readonly token: string) {
    // A hash of a 128-bit random secret reveals nothing; it only tells tokens apart.
    this.fingerprint = `sha256:${createHash('sha256').update(token).digest('hex')}`;
  }

  async prove(_client: BotApiClient): Promise<JoinProof> {
    return { join_method: 'token', token: this.token };
  }
}
