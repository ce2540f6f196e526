import type { AuthService } from '../../../lib/auth/auth-service.js';
import type { BotRequest } from '../../../lib/auth/bot-authenticator.js';
import type { ApiRequest } from '../../../lib/auth/http/api-request.js';
import { ApiRouter } from '../../../lib/auth/http/api-router.js';
import { BearerAdminAuthenticator } from '../../../lib/auth/http/bearer-admin-authenticator.js';

/** The HTTP router over a test service, for bot routes: its admin secret is one no test sends. */
export function routerForBots(service: AuthService): ApiRouter {
  return new ApiRouter(service, { admin: new BearerAdminAuthenticator('a'.repeat(64)) });
}

/** A bot's signed request as the router takes it from the HTTP server. */
export function fromBot(signed: BotRequest, requestId = 'bot'): ApiRequest {
  return { ...signed, query: new URLSearchParams(), requestId };
}
