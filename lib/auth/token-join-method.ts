import { JoinError } from '../core/errors.js';
import type { Token } from '../resources/token.js';
import type { AuthContext } from './auth-context.js';
import { type JoinMethod, type JoinProof, markConsumed } from './join-service.js';
import type { Revisioned } from './resource-store.js';

/**
 * The `token` join method: the token's name is a single-use secret. Consumption is one conditional
 * delete at the revision we read, so of any number of concurrent joins with one token exactly one
 * wins (SECURITY rule 7).
 */
export const tokenJoinMethod: JoinMethod = {
  name: 'token',
  async prove(context: AuthContext, token: Revisioned<Token>): Promise<JoinProof> {
    const consumed = await context.resources.delete('token', token.resource.metadata.name, token.revision);
    if (!consumed) {
      throw new JoinError(
        'token_already_used',
        'this join token was just used by another join: tokens of the token method are single use; create a new one with `midctl tokens add --type=bot --bot-name=NAME`',
      );
    }
    await markConsumed(context, token.resource.metadata.name);
    return {};
  },
};
