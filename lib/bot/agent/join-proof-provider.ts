import type { JoinRequest } from '../../api/join.js';
import type { BotApiClient } from '../auth-client/bot-api-client.js';

/** What a join method contributes to `POST /v1/join`; the agent adds the public key (and a previous certificate). */
export type JoinProof = Omit<JoinRequest, 'public_key' | 'previous_certificate'>;

/** What a method may need to know about the cluster to build its proof (IAM binds the cluster name). */
export interface JoinProofContext {
  readonly clusterName: string;
}

/**
 * One join method on the agent's side: it builds the proof the auth service checks. `token` sends the
 * secret itself; `iam` (added separately) fetches a challenge with `client.challenge()` and signs an
 * `sts:GetCallerIdentity` request. The agent treats every method the same way, so adding one touches
 * only `join-proof-providers.ts`.
 */
export interface JoinProofProvider {
  readonly method: JoinRequest['join_method'];
  /**
   * Identifies the onboarding this proof comes from without revealing it, so that the agent notices
   * when the configured token changed and joins afresh instead of renewing an older identity.
   */
  readonly fingerprint: string;
  prove(client: BotApiClient, context: JoinProofContext): Promise<JoinProof>;
}
