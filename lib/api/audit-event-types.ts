/**
 * Every type of record the audit log holds. The service's records are typed with it, so a new type
 * cannot be written without being listed here, where `midctl events ls --type` finds it.
 */
export const AUDIT_EVENT_TYPES = [
  'bot.authenticate',
  'bot.create',
  'bot.heartbeat',
  'bot.join',
  'bot.lock',
  'bot.renew',
  'bot.unlock',
  'bot.update',
  'cert.issue',
  'resource.create',
  'resource.delete',
  'resource.update',
  'role.lock',
  'role.unlock',
  'token.create',
  /** An oversized body sent to a path that is no route. */
  'request',
] as const;

export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

/**
 * The categories of the types (the part before the dot: `bot` for every `bot.*` type). `GET
 * /v1/admin/events?type=` filters by a type or a category.
 */
export const AUDIT_EVENT_CATEGORIES: readonly string[] = [
  ...new Set(
    AUDIT_EVENT_TYPES.filter((type) => type.includes('.')).map((type) => type.split('.')[0] as string),
  ),
];
