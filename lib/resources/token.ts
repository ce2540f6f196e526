import * as z from 'zod';
import { builtOnFirstUse } from '../core/built-on-first-use.js';
import { botNameSchema } from './bot.js';
import { awsAccountSchema, timestampSchema } from './fields.js';
import {
  descriptionSchema,
  labelsSchema,
  resourceNameSchema,
  teleportExportFields,
  withoutTeleportExportFields,
} from './metadata.js';
import { describeCharacter, findCharacterOutside } from './text.js';

export const TOKEN_VERSIONS = ['v2'] as const;

/** Join methods a token can name. */
export const JOIN_METHODS = ['token', 'iam'] as const;
export type JoinMethod = (typeof JOIN_METHODS)[number];

/**
 * For the `token` method the name *is* the secret, so it has to be unguessable. 32 characters is what
 * `tctl bots add` (and `midctl bots add`) generate.
 */
export const MIN_SECRET_TOKEN_NAME = 32;

const ARN = /^arn:(aws|aws-cn|aws-us-gov):(sts|iam)::(\d{12}):(.+)$/;

function arnProblem(value: string): string | undefined {
  const example = 'arn:aws:sts::123456789012:assumed-role/bot-role/*';
  if (value.length > 2048) return 'an ARN is at most 2048 characters';
  const match = ARN.exec(value);
  if (match === null) return `expected an IAM or STS ARN such as "${example}"`;
  const bad = findCharacterOutside(match[4] as string, /[A-Za-z0-9+=,.@_/*?-]/);
  if (bad !== undefined) return `${describeCharacter(bad)} is not allowed in an ARN; e.g. "${example}"`;
  return undefined;
}

/** One rule of an `iam` token: who may join. */
export const tokenAllowRuleSchema = builtOnFirstUse(() =>
  z
    .strictObject({
      /** The AWS account, matched exactly. */
      aws_account: awsAccountSchema,
      /** The caller's ARN, `*` and `?` as wildcards (optional). */
      aws_arn: z
        .string()
        .superRefine((value, ctx) => {
          const problem = arnProblem(value);
          if (problem !== undefined) ctx.addIssue({ code: 'custom', input: value, message: problem });
        })
        .optional(),
      /**
       * The role's unique id (`AROA…`, from `aws iam get-role`), optional. A role deleted and re-created
       * under the same name gets a new id, so pinning it stops the new role inheriting access.
       */
      aws_role_id: z
        .string()
        .regex(
          /^AROA[A-Z0-9]{8,128}$/,
          'expected a role unique id like AROAEXAMPLEID123 (aws iam get-role --query Role.RoleId)',
        )
        .optional(),
    })
    .superRefine((rule, ctx) => {
      const account = rule.aws_arn === undefined ? undefined : ARN.exec(rule.aws_arn)?.[3];
      if (account !== undefined && account !== rule.aws_account) {
        ctx.addIssue({
          code: 'custom',
          path: ['aws_arn'],
          input: rule.aws_arn,
          message: `the ARN is in account ${account} but aws_account is ${rule.aws_account}; it could never match, make them agree`,
        });
      }
    }),
);

/** `spec` of a join token. */
export const tokenSpecSchema = builtOnFirstUse(() =>
  z
    .strictObject({
      roles: z.array(z.string()).refine((roles) => roles.length === 1 && roles[0] === 'Bot', {
        message: 'only bot join tokens are supported for now; write roles: [Bot]',
      }),
      join_method: z.enum(JOIN_METHODS),
      bot_name: botNameSchema,
      allow: z.array(tokenAllowRuleSchema).optional(),
    })
    .superRefine((spec, ctx) => {
      if (spec.join_method === 'iam' && (spec.allow === undefined || spec.allow.length === 0)) {
        ctx.addIssue({
          code: 'custom',
          path: ['allow'],
          input: spec.allow,
          message:
            'an iam token needs at least one allow rule naming the AWS account that may join, e.g. allow: [{aws_account: "123456789012"}]',
        });
      }
      if (spec.join_method === 'token' && spec.allow !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: ['allow'],
          input: spec.allow,
          message: 'allow rules only apply to iam tokens; remove allow or set join_method: iam',
        });
      }
    }),
);

/** A join token (`kind: token`, version v2) that lets one bot join. */
export const tokenSchema = builtOnFirstUse(() =>
  z
    .strictObject({
      kind: z.literal('token'),
      version: z.enum(TOKEN_VERSIONS),
      metadata: z
        .strictObject({
          name: resourceNameSchema,
          description: descriptionSchema.optional(),
          labels: labelsSchema.optional(),
          /** When the token stops working, normalised to an ISO time. */
          expires: timestampSchema.optional(),
          ...teleportExportFields(),
        })
        .transform(withoutTeleportExportFields),
      spec: tokenSpecSchema,
    })
    .superRefine((token, ctx) => {
      if (token.spec.join_method === 'token' && token.metadata.name.length < MIN_SECRET_TOKEN_NAME) {
        ctx.addIssue({
          code: 'custom',
          path: ['metadata', 'name'],
          input: token.metadata.name,
          message: `a token-method token's name is its secret and must be at least ${MIN_SECRET_TOKEN_NAME} random characters; let \`midctl bots add\` generate one`,
        });
      }
    }),
);

/** A join token. */
export type Token = z.infer<typeof tokenSchema>;
