/**
 * What an AWS SDK v3 client does on every call that our Lambdas do not need. A warm Lambda makes many
 * calls with one client, and on loopback the SDK's own work per call is larger than the round trip, so
 * the auth Lambda's DynamoDB client and the bot's Secrets Manager client are both built with this.
 *
 * - `cacheMiddleware: true` (a documented client option): the middleware chain is resolved once per
 *   command class instead of on every call. The price is that middleware added to a client or command
 *   after its first call is ignored; we add none.
 * - The logger middleware is dropped: it runs the SDK's sensitive-field filter over every input and
 *   output only to hand them to the client's logger, and our clients keep the SDK's no-op logger (our
 *   own structured logs say what failed).
 *
 * Typed by shape so that this file needs no SDK import.
 */
export const WARM_SDK_CLIENT_CONFIG = { cacheMiddleware: true } as const;

interface SdkClientLike {
  readonly middlewareStack: { remove(toRemove: string): boolean };
}

/** Drops the per-call logging middleware of `client` (see above) and returns the client. */
export function withoutCallLogging<Client extends SdkClientLike>(client: Client): Client {
  client.middlewareStack.remove('loggerMiddleware');
  return client;
}
