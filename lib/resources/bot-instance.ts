import * as z from 'zod';
import { builtOnFirstUse } from '../core/built-on-first-use.js';
import { awsAccountSchema, timestampSchema } from './fields.js';
import { resourceNameSchema } from './metadata.js';
import { checkedString, describeCharacter, findUnsafeCharacter } from './text.js';
import { JOIN_METHODS } from './token.js';

export const BOT_INSTANCE_VERSIONS = ['v1'] as const;

function reportedTextProblem(max: number) {
  return (value: string): string | undefined => {
    if (value.length > max) return `expected at most ${max} characters`;
    const bad = findUnsafeCharacter(value);
    return bad === undefined ? undefined : `${describeCharacter(bad)} is not allowed`;
  };
}

/** One successful join or renewal of a bot instance. */
export const botAuthenticationSchema = builtOnFirstUse(() =>
  z
    .strictObject({
      auth_at: timestampSchema,
      /** How the instance authenticated: a join method, or a renewal of its identity. */
      join_method: z.enum([...JOIN_METHODS, 'renewal']),
      /** The token used; only for methods whose token name is not a secret (not `token`). */
      join_token_name: resourceNameSchema.optional(),
      /** For `token` joins: a fingerprint of the secret token, to correlate with the audit log. */
      join_token_fingerprint: z
        .string()
        .regex(/^sha256:[0-9a-f]{16}$/)
        .optional(),
      /** Serial of the bot certificate issued by this authentication. */
      serial: z
        .string()
        .regex(/^[0-9a-f]{1,40}$/)
        .optional(),
      /** Renewal counter of the instance's certificate. */
      generation: z.number().int().min(0).optional(),
      /** When the bot identity issued by this authentication expires. */
      expires_at: timestampSchema.optional(),
      aws_arn: checkedString(reportedTextProblem(2048)).optional(),
      aws_account: awsAccountSchema.optional(),
    })
    .superRefine((auth, ctx) => {
      if (auth.join_method === 'token' && auth.join_token_name !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['join_token_name'],
          input: auth.join_token_name,
          message: 'a token-method token name is a secret and is never recorded; leave join_token_name out',
        });
      }
    }),
);

/** One heartbeat sent by a running agent. */
export const botHeartbeatSchema = builtOnFirstUse(() =>
  z.strictObject({
    recorded_at: timestampSchema,
    hostname: checkedString(reportedTextProblem(255)),
    version: checkedString(reportedTextProblem(64)),
    uptime_seconds: z.number().min(0),
    one_shot: z.boolean(),
    outputs_written: z.number().int().min(0).optional(),
  }),
);

/**
 * A bot instance (`kind: bot_instance`, version v1): one agent installation, created by the auth service
 * on each fresh join and updated on renewals and heartbeats. Read-only for people (see
 * `READ_ONLY_KINDS`); the schema is for output and storage.
 */
export const botInstanceSchema = builtOnFirstUse(() =>
  z
    .strictObject({
      kind: z.literal('bot_instance'),
      version: z.enum(BOT_INSTANCE_VERSIONS),
      metadata: z.strictObject({ name: resourceNameSchema }),
      spec: z.strictObject({
        bot_name: resourceNameSchema,
        instance_id: resourceNameSchema,
        previous_instance_id: resourceNameSchema.optional(),
      }),
      status: z.strictObject({
        created_at: timestampSchema,
        join_method: z.enum(JOIN_METHODS),
        /** Token-joined instances renew; IAM instances join again on every run. */
        renewable: z.boolean(),
        generation: z.number().int().min(0),
        aws_arn: checkedString(reportedTextProblem(2048)).optional(),
        locked: z
          .strictObject({
            at: timestampSchema,
            reason: checkedString(reportedTextProblem(512)),
            /** The operator who locked it; absent when the service locked it (a copy was used). */
            by: checkedString(reportedTextProblem(2048)).optional(),
          })
          .optional(),
        initial_authentication: botAuthenticationSchema,
        latest_authentications: z.array(botAuthenticationSchema),
        initial_heartbeat: botHeartbeatSchema.optional(),
        latest_heartbeats: z.array(botHeartbeatSchema),
      }),
    })
    .superRefine((instance, ctx) => {
      if (instance.metadata.name !== instance.spec.instance_id) {
        ctx.addIssue({
          code: 'custom',
          path: ['metadata', 'name'],
          input: instance.metadata.name,
          message: `a bot instance is named after its instance_id ("${instance.spec.instance_id}")`,
        });
      }
    }),
);

/** A bot instance. */
export type BotInstance = z.infer<typeof botInstanceSchema>;
/** One authentication of a bot instance. */
export type BotAuthentication = z.infer<typeof botAuthenticationSchema>;
/** One heartbeat of a bot instance. */
export type BotHeartbeat = z.infer<typeof botHeartbeatSchema>;
