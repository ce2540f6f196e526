import * as z from 'zod';
import { builtOnFirstUse } from '../core/built-on-first-use.js';
import { checkedString, describeCharacter, findUnsafeCharacter } from '../resources/text.js';
import { clusterCasSchema, isoTime, name, ttlSeconds } from './wire-schemas.js';

/** The most audit events one `GET /v1/admin/events` call returns (`?limit=`). */
export const MAX_EVENTS_PER_CALL = 1000;

/** The most resources one `PUT /v1/admin/resources` applies (whole or not at all). */
export const MAX_RESOURCES_PER_PUT = 100;

/**
 * Bodies of the operator routes under /v1/admin/. Resources travel as JSON objects of the YAML kinds.
 * The schemas are built on first use: operator calls are rare, and the auth service's cold starts
 * mostly serve bots.
 */
export const putResourcesRequestSchema = builtOnFirstUse(() =>
  z.strictObject({
    resources: z.array(z.record(z.string(), z.unknown())).min(1).max(MAX_RESOURCES_PER_PUT),
    /** Replace resources that already exist (like `tctl create --force`). */
    force: z.boolean().default(false),
  }),
);
export type PutResourcesRequest = z.infer<typeof putResourcesRequestSchema>;

export const putResourcesResponseSchema = builtOnFirstUse(() =>
  z.strictObject({
    results: z.array(
      z.strictObject({ kind: z.string(), name: z.string(), action: z.enum(['created', 'updated']) }),
    ),
  }),
);

export const addBotRequestSchema = builtOnFirstUse(() =>
  z.strictObject({
    name,
    roles: z.array(name).min(1).max(64),
    logins: z.array(z.string().max(64)).max(64).optional(),
    /** Use this existing token (e.g. an iam token) instead of creating a single-use one. */
    token_name: name.optional(),
    ttl_seconds: ttlSeconds.optional(),
  }),
);
export type AddBotRequest = z.infer<typeof addBotRequestSchema>;

export const tokenSummarySchema = builtOnFirstUse(() =>
  z.strictObject({
    name: z.string(),
    join_method: z.enum(['token', 'iam']),
    bot_name: z.string(),
    expires: isoTime.optional(),
  }),
);

export const addBotResponseSchema = builtOnFirstUse(() =>
  z.strictObject({
    bot: z.record(z.string(), z.unknown()),
    token: tokenSummarySchema,
    ca_pins: z.array(z.string()),
    cluster_name: z.string(),
  }),
);
export type AddBotResponse = z.infer<typeof addBotResponseSchema>;

/** Logins as the bot's logins trait takes them; each value is checked with the bot it ends up in. */
const logins = z.array(z.string().max(64)).min(1).max(64);

export const updateBotRequestSchema = builtOnFirstUse(() =>
  z
    .strictObject({
      add_roles: z.array(name).min(1).max(64).optional(),
      set_roles: z.array(name).min(1).max(64).optional(),
      add_logins: logins.optional(),
      set_logins: logins.optional(),
    })
    .refine((body) => body.add_roles === undefined || body.set_roles === undefined, {
      message: 'give add_roles or set_roles, not both',
    })
    .refine((body) => body.add_logins === undefined || body.set_logins === undefined, {
      message: 'give add_logins or set_logins, not both',
    })
    .refine((body) => Object.values(body).some((value) => value !== undefined), {
      message: 'give add_roles or set_roles, add_logins or set_logins, or one of each',
    }),
);
export type UpdateBotRequest = z.infer<typeof updateBotRequestSchema>;

export const addTokenRequestSchema = builtOnFirstUse(() =>
  z.strictObject({
    bot_name: name,
    ttl_seconds: ttlSeconds.optional(),
  }),
);
export type AddTokenRequest = z.infer<typeof addTokenRequestSchema>;

/** The longest lock message: it is repeated in every refusal the locked bot gets. */
export const MAX_LOCK_MESSAGE = 256;

/** What is wrong with a lock message: it is repeated in refusals and the audit log, so one plain line. */
export function lockMessageProblem(value: string): string | undefined {
  if (value.trim() === '') return 'the message is blank; leave it out for the default';
  if (value.length > MAX_LOCK_MESSAGE) return `a lock message is at most ${MAX_LOCK_MESSAGE} characters`;
  const bad = findUnsafeCharacter(value);
  return bad === undefined ? undefined : `${describeCharacter(bad)} is not allowed in a lock message`;
}

/**
 * `POST /v1/admin/bots/NAME/lock` and `POST /v1/admin/bot-instances/BOT/ID/lock`: why (shown to the
 * bot and in the audit log), for a lock that lifts by itself how long it lasts (`ttl_seconds`, counted
 * on the service's clock) or until when (`expires`), without either until unlocked; and `replace`.
 */
export const lockRequestSchema = builtOnFirstUse(() =>
  z.strictObject({
    message: checkedString(lockMessageProblem).optional(),
    ttl_seconds: ttlSeconds.optional(),
    expires: isoTime.optional(),
    /** Put this lock in the place of one in force; without it, locking a locked target is refused. */
    replace: z.boolean().optional(),
  }),
);
export type LockRequest = z.infer<typeof lockRequestSchema>;

export const statusResponseSchema = builtOnFirstUse(() =>
  z.strictObject({
    cluster_name: z.string(),
    server_version: z.string(),
    signature_suite: z.enum(['balanced', 'legacy']),
    ca_pin: z.string(),
    counts: z.record(z.string(), z.number()),
  }),
);
export type StatusResponse = z.infer<typeof statusResponseSchema>;

/** The public half of the cluster's CAs (`midctl auth export`). */
export const casResponseSchema = builtOnFirstUse(() =>
  z.strictObject({ cluster_name: z.string(), cas: clusterCasSchema }),
);
export type CasResponse = z.infer<typeof casResponseSchema>;
