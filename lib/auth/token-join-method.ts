import { JoinError } from '../core/errors.js';
import type { Token } from '../resources/token.js';
import type { AuthContext } from './auth-context.js';
import { markConsumed, unmarkConsumed } from './consumed-tokens.js';
import type { JoinMethod, StartedJoin } from './join-service.js';
import type { Revisioned } from './resource-store.js';

/**
 * The `token` join method: the token's name is a single-use secret. Consumption is one conditional
 * delete at the revision we read, so of any number of concurrent joins with one token exactly one
 * wins (SECURITY rule 7).
 */
export const tokenJoinMethod: JoinMethod = {
  name: 'token',
  // The token, read by the join service, is all there is to read.
  async begin(context: AuthContext, tokenRead: Promise<Revisioned<Token>>): Promise<StartedJoin> {
    const token = await tokenRead;
    return {
      async prove(admitted) {
        // A token is worth keeping: spent only once the bot's roles are known to exist.
        await admitted;
        // The tombstone goes first: a join that finds the token gone must also find the tombstone, or it
        // would be told "unknown token" instead of "already used" (over DynamoDB the gap is a round trip).
        const name = token.resource.metadata.name;
        const bot = token.resource.spec.bot_name;
        const tombstone = await markConsumed(context, name, bot);
        const consumed = await context.resources.delete('token', name, token.revision);
        if (!consumed) {
          // Gone: another join spent it. Still there: an operator rewrote it after this join read it
          // (for another bot, maybe), so nothing was spent and this join's reads are stale.
          if ((await context.resources.get('token', name)) !== undefined) {
            await unmarkConsumed(context, tombstone);
            throw new JoinError(
              'token_changed',
              'the join token was rewritten by an operator while this join was using it, so it was not spent and nothing joined; join again with it',
              { bot },
            );
          }
          throw new JoinError(
            'token_already_used',
            `this join token was just used by another join: tokens of the token method are single use; create a new one with \`midctl tokens add --type=bot --bot-name=${bot}\``,
            { bot },
          );
        }
        return {};
      },
    };
  },
};
