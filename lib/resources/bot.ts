import * as z from 'zod';
import { builtOnFirstUse } from '../core/built-on-first-use.js';
import { durationSchema } from './fields.js';
import { metadataSchema, resourceNameSchema } from './metadata.js';
import { isPosixLogin, kubernetesSubjectProblem, LOGIN_RULE } from './principals.js';

export const BOT_VERSIONS = ['v1'] as const;

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
        .min(1, 'a bot needs at least one role; list role names, e.g. roles: [access]'),
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
  z.strictObject({
    kind: z.literal('bot'),
    version: z.enum(BOT_VERSIONS),
    metadata: metadataSchema,
    spec: botSpecSchema,
  }),
);

/** A bot. */
export type Bot = z.infer<typeof botSchema>;
