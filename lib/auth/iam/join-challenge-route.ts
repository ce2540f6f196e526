import * as z from 'zod';
import { ROUTES } from '../../api/routes.js';
import type { ApiRoute } from '../http/api-router.js';
import { parseJsonBody } from '../http/json-body.js';
import {
  type ChallengeContext,
  checkChallengeTtl,
  DEFAULT_CHALLENGE_TTL_MS,
  issueJoinChallenge,
} from './join-challenges.js';

/** The challenge request has no parameters; an empty body or `{}`. */
const challengeRequestSchema = z.strictObject({});

/**
 * `POST /v1/join/challenge` for the API router: public like `/v1/join` and counted against the same
 * concurrency limit, so a flood of challenge requests is bounded the way a flood of joins is.
 */
export function joinChallengeRoute(
  context: ChallengeContext,
  options: { readonly ttlMs?: number } = {},
): ApiRoute {
  const ttlMs = checkChallengeTtl(options.ttlMs ?? DEFAULT_CHALLENGE_TTL_MS);
  return {
    method: 'POST',
    pattern: new RegExp(`^${ROUTES.joinChallenge.replace(/\//g, '\\/')}$`),
    limitedLikeJoins: true,
    handler: async (request) => {
      parseJsonBody(request.body, challengeRequestSchema);
      return issueJoinChallenge(context, ttlMs);
    },
  };
}
