import { ConfigError } from '../../core/errors.js';
import type { OnboardingConfig } from '../config/bot-config.js';
import type { JoinProofProvider } from './join-proof-provider.js';
import { TokenJoinProof } from './token-join-proof.js';

/** The join proof for the configured `onboarding.join_method`. */
export function joinProofProviderFor(onboarding: OnboardingConfig): JoinProofProvider {
  switch (onboarding.join_method) {
    case 'token':
      return new TokenJoinProof(onboarding.token);
    case 'iam':
      throw new ConfigError(
        'join_method_unavailable',
        'onboarding.join_method: iam needs the AWS join proof, which the composition root passes in (midbot start and the bot Lambda do)',
      );
  }
}
