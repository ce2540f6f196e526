import * as z from 'zod';
import { builtOnFirstUse } from '../core/built-on-first-use.js';
import { durationSchema } from './fields.js';
import { metadataSchema, resourceNameProblem, resourceNameSchema } from './metadata.js';
import { isPosixLogin, kubernetesSubjectProblem, LOGIN_RULE } from './principals.js';
import { checkedString } from './text.js';

export const BOT_VERSIONS = ['v1'] as const;

/** The Teleport convention: a bot named `robot` acts as user `bot-robot`. */
const BOT_USER_PREFIX = 'bot-';

/**
 * The user `bot-<name>` is the common name of every certificate the bot gets, and X.520 caps a common
 * name at 64 characters: a longer bot name could be created, and its token then spent on a join that
 * can never be issued.
 */
export const MAX_BOT_NAME = 64 - BOT_USER_PREFIX.length;

/** The user a bot acts as, the common name of its certificates: `bot-robot` for bot `robot`. */
export function botUserName(botName: string): string {
  return `${BOT_USER_PREFIX}${botName}`;
}

/** What keeps `name` from naming a bot beyond the rule for every name, or undefined when it fits. */
function botNameLengthProblem(name: string): string | undefined {
  if (name.length <= MAX_BOT_NAME) return undefined;
  return `the name is ${name.length} characters long; a bot's name is at most ${MAX_BOT_NAME} characters, because its certificates name it ${BOT_USER_PREFIX}<name> and a certificate's common name holds at most 64 (the X.520 limit): choose a shorter name`;
}

/** What is wrong with a bot's name, or undefined when it is fine: a resource name that fits a certificate. */
export function botNameProblem(name: string): string | undefined {
  return resourceNameProblem(name) ?? botNameLengthProblem(name);
}

/** A bot's name, where one is referred to (a token's `bot_name`): see {@link botNameProblem}. */
export const botNameSchema = builtOnFirstUse(() => checkedString(botNameProblem));

/**
 * Each role a bot holds is an organization (O) of its certificates, and the issuer writes at most 100
 * values of one attribute: a bot with more roles could be created but never join.
 */
const MAX_BOT_ROLES = 100;

const TRAIT_NAME = /^[A-Za-z0-9_.:-]{1,64}$/;

/**
 * A trait's values end up wherever a role's template puts them. The well-known traits are held to the
 * rule of the field they feed, so an unsafe login or group is refused when the bot is created; any
 * other trait to the strictest rule that still fits both logins and Kubernetes names.
 */
function traitValueProblem(trait: string, value: string): string | undefined {
  if (trait === 'logins')
    return isPosixLogin(value) ? undefined : `not a valid login for the logins trait; ${LOGIN_RULE}`;
  return kubernetesSubjectProblem(value);
}

/** A bot trait: `{name: logins, values: [ubuntu]}`. */
export const botTraitSchema = builtOnFirstUse(() =>
  z
    .strictObject({
      name: z
        .string()
        .regex(
          TRAIT_NAME,
          'expected a trait name of 1 to 64 letters, digits, "_", ".", ":" or "-", e.g. logins',
        ),
      values: z.array(z.string()),
    })
    .superRefine((trait, ctx) => {
      for (const [index, value] of trait.values.entries()) {
        const problem = traitValueProblem(trait.name, value);
        if (problem !== undefined)
          ctx.addIssue({ code: 'custom', path: ['values', index], input: value, message: problem });
      }
    }),
);

/** `spec` of a bot. */
export const botSpecSchema = builtOnFirstUse(() =>
  z
    .strictObject({
      roles: z
        .array(resourceNameSchema)
        .min(1, 'a bot needs at least one role; list role names, e.g. roles: [access]')
        .max(
          MAX_BOT_ROLES,
          `a bot holds at most ${MAX_BOT_ROLES} roles, since its certificates list them as organizations; merge roles so that fewer remain`,
        ),
      traits: z.array(botTraitSchema).optional(),
      max_session_ttl: durationSchema.optional(),
    })
    .superRefine((spec, ctx) => {
      const seen = new Set<string>();
      for (const [index, trait] of (spec.traits ?? []).entries()) {
        if (seen.has(trait.name)) {
          ctx.addIssue({
            code: 'custom',
            path: ['traits', index, 'name'],
            input: trait.name,
            message: 'this trait is listed twice; put all its values in one entry',
          });
        }
        seen.add(trait.name);
      }
    }),
);

/** A bot (`kind: bot`, version v1): a machine user holding roles. */
export const botSchema = builtOnFirstUse(() =>
  z
    .strictObject({
      kind: z.literal('bot'),
      version: z.enum(BOT_VERSIONS),
      metadata: metadataSchema,
      spec: botSpecSchema,
      /**
       * What `tctl get bot/NAME` writes of the bot's user and role (`user_name`, `role_name`): Teleport's
       * own bookkeeping, meaning nothing here. Accepted so that an export pastes as it is, and dropped.
       */
      status: z.record(z.string(), z.unknown()).optional(),
    })
    .transform(({ status: _status, ...bot }) => bot)
    .superRefine((bot, ctx) => {
      // metadataSchema has held the name to the rule for every name already.
      const problem = botNameLengthProblem(bot.metadata.name);
      if (problem !== undefined)
        ctx.addIssue({
          code: 'custom',
          path: ['metadata', 'name'],
          input: bot.metadata.name,
          message: problem,
        });
    }),
);

/** A bot. */
export type Bot = z.infer<typeof botSchema>;
