/**
 * The paths of the wire protocol. Everything under `/v1/admin/` is for operators (IAM-authorised on
 * AWS, admin credential locally); `/v1/bot/` is authenticated by a signature with the bot's key;
 * `/v1/ping` and `/v1/join*` are public and authenticated by the join method itself.
 */
export const ROUTES = {
  ping: '/v1/ping',
  joinChallenge: '/v1/join/challenge',
  join: '/v1/join',
  botRenew: '/v1/bot/renew',
  botCertificates: '/v1/bot/certificates',
  botCertificatesBatch: '/v1/bot/certificates/batch',
  botHeartbeat: '/v1/bot/heartbeat',
  adminStatus: '/v1/admin/status',
  adminCas: '/v1/admin/cas',
  adminResources: '/v1/admin/resources',
  /** Also `/v1/admin/bots/NAME/lock`: POST locks the whole bot, DELETE lifts the lock. */
  adminBots: '/v1/admin/bots',
  adminTokens: '/v1/admin/tokens',
  adminEvents: '/v1/admin/events',
  /** `/v1/admin/roles/NAME/lock`: POST locks the role, DELETE lifts the lock (roles are resources otherwise). */
  adminRoles: '/v1/admin/roles',
  /** Every lock in force, on bots, bot instances and roles. */
  adminLocks: '/v1/admin/locks',
  /** `/v1/admin/bot-instances/BOT/ID/lock`: POST locks the instance, DELETE lifts the lock. */
  adminBotInstances: '/v1/admin/bot-instances',
} as const;

export const ADMIN_PREFIX = '/v1/admin/';
