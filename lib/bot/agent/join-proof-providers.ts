import { ConfigError } from '../../core/errors.js';
import type { OnboardingConfig } from '../config/onboarding-config.js';
import type { JoinProofProvider } from './join-proof-provider.js';
import { TokenJoinProof } from './token-join-proof.js';

/**
 * The join proof for the configured `onboarding.join_method`; undefined for the token method without a
 * token, where the agent can only renew the identity in storage.
 */
export function joinProofProviderFor(onboarding: OnboardingConfig): JoinProofProvider | undefined {
  switch (onboarding.join_method) {
    case 'token':
      return onboarding.token === undefined ? undefined : new TokenJoinProof(onboarding.token);
    case 'iam':
      throw new ConfigError(
        'join_method_unavailable',
        'onboarding.join_method: iam needs the AWS join proof, which the composition root passes in (midbot start and the bot Lambda do)',
      );
  }
}
