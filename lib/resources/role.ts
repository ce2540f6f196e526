import * as z from 'zod';
import { builtOnFirstUse } from '../core/built-on-first-use.js';
import { durationSchema } from './fields.js';
import { labelSelectorSchema, metadataSchema } from './metadata.js';
import { deniedLoginSchema, kubernetesSubjectSchema, loginSchema } from './principals.js';
import {
  ignoredFields,
  LABEL_EXPRESSION_KEYS,
  TELEPORT_OTHER_KIND_CONDITIONS,
  TELEPORT_ROLE_OPTIONS,
} from './teleport-role-fields.js';
import { checkedString, describeCharacter, findCharacterOutside } from './text.js';

/** Role versions accepted; they share one shape here, with the differences noted in {@link roleSchema}. */
export const ROLE_VERSIONS = ['v5', 'v6', 'v7'] as const;

function wordProblem(what: string, example: string) {
  return (value: string): string | undefined => {
    if (value.length === 0 || value.length > 64) return `a ${what} is 1 to 64 characters, e.g. ${example}`;
    const bad = findCharacterOutside(value, /[a-z0-9_*]/);
    return bad === undefined
      ? undefined
      : `${describeCharacter(bad)} is not allowed; a ${what} is lowercase letters, digits, "_" or "*", e.g. ${example}`;
  };
}

function kubernetesNameProblem(what: string) {
  return (value: string): string | undefined => {
    if (value.length === 0 || value.length > 253) return `a ${what} is 1 to 253 characters`;
    const bad = findCharacterOutside(value, /[a-zA-Z0-9._*-]/);
    return bad === undefined
      ? undefined
      : `${describeCharacter(bad)} is not allowed; a ${what} is letters, digits, ".", "_", "-" and "*" as a wildcard`;
  };
}

/** A Kubernetes resource a role grants access to, e.g. `{kind: pod, namespace: "*", name: "*"}`. */
export const kubernetesResourceSchema = builtOnFirstUse(() =>
  z.strictObject({
    kind: checkedString(wordProblem('Kubernetes resource kind', 'pod')),
    namespace: checkedString(kubernetesNameProblem('namespace')),
    name: checkedString(kubernetesNameProblem('resource name')),
    verbs: z
      .array(checkedString(wordProblem('Kubernetes verb', 'get')))
      .min(1)
      .optional(),
  }),
);

/**
 * A permission on the cluster's own resources. Only `create` on `host_cert` has a meaning here (it
 * allows `ssh_host` outputs); other resources and verbs are accepted so Teleport roles paste cleanly.
 */
export const roleRuleSchema = builtOnFirstUse(() =>
  z
    .strictObject({
      resources: z.array(checkedString(wordProblem('resource', 'host_cert'))).min(1),
      verbs: z.array(checkedString(wordProblem('verb', 'create'))).min(1),
      /** Teleport's conditions and actions on a rule: kept, applied to nothing. */
      where: z.string().optional(),
      actions: z.array(z.string()).optional(),
    })
    .superRefine((rule, ctx) => {
      // A `where` narrows the rule; ignored on the one rule that means something, it would widen it.
      if (
        rule.where !== undefined &&
        rule.resources.some((resource) => resource === 'host_cert' || resource === '*')
      ) {
        ctx.addIssue({
          code: 'custom',
          path: ['where'],
          input: rule.where,
          message:
            'a where condition on host_cert is not supported (it would be ignored, allowing every host); remove it and grant the rule only to bots that run on the hosts they name',
        });
      }
    }),
);

/** Refuses a Teleport label expression, which narrows what a role allows, rather than ignore it. */
const labelExpressionSchema = z
  .never({
    error:
      'label expressions are not supported (ignored, the role would allow more than it says); write the labels as a mapping, e.g. node_labels: {env: [dev, staging]}',
  })
  .optional();

function conditionsSchema(logins: typeof loginSchema) {
  return z.strictObject({
    ...ignoredFields(TELEPORT_OTHER_KIND_CONDITIONS),
    ...Object.fromEntries(LABEL_EXPRESSION_KEYS.map((key) => [key, labelExpressionSchema])),
    logins: z.array(logins).optional(),
    node_labels: labelSelectorSchema.optional(),
    app_labels: labelSelectorSchema.optional(),
    kubernetes_labels: labelSelectorSchema.optional(),
    kubernetes_groups: z.array(kubernetesSubjectSchema).optional(),
    kubernetes_users: z.array(kubernetesSubjectSchema).optional(),
    kubernetes_resources: z.array(kubernetesResourceSchema).optional(),
    rules: z.array(roleRuleSchema).optional(),
  });
}

/** What a role allows or denies. */
export const roleConditionsSchema = builtOnFirstUse(() => conditionsSchema(loginSchema));

/** `spec` of a role. `deny` may also name the login `*`. */
export const roleSpecSchema = builtOnFirstUse(() =>
  z.strictObject({
    allow: roleConditionsSchema.optional(),
    deny: conditionsSchema(deniedLoginSchema).optional(),
    options: z
      .strictObject({
        /** Longest certificate lifetime, e.g. `8h`. */
        max_session_ttl: durationSchema.optional(),
        ...ignoredFields(TELEPORT_ROLE_OPTIONS),
      })
      .optional(),
  }),
);

/**
 * A role (`kind: role`, versions v5, v6, v7). The versions share one shape; as in Teleport, before v7
 * `kubernetes_resources` may only name `pod` and cannot list `verbs`.
 */
export const roleSchema = builtOnFirstUse(() =>
  z
    .strictObject({
      kind: z.literal('role'),
      version: z.enum(ROLE_VERSIONS),
      metadata: metadataSchema,
      spec: roleSpecSchema,
    })
    .superRefine((role, ctx) => {
      if (role.version === 'v7') return;
      for (const side of ['allow', 'deny'] as const) {
        for (const [index, resource] of (role.spec[side]?.kubernetes_resources ?? []).entries()) {
          const path = ['spec', side, 'kubernetes_resources', index];
          if (resource.kind !== 'pod') {
            ctx.addIssue({
              code: 'custom',
              path: [...path, 'kind'],
              input: resource.kind,
              message: `role ${role.version} only supports kind "pod" here; use version v7 for other kinds`,
            });
          }
          if (resource.verbs !== undefined) {
            ctx.addIssue({
              code: 'custom',
              path: [...path, 'verbs'],
              input: resource.verbs,
              message: `verbs need role version v7; remove them or set version: v7`,
            });
          }
        }
      }
    }),
);

/** A role. */
export type Role = z.infer<typeof roleSchema>;
/** What a role allows (or denies). */
export type RoleConditions = z.infer<typeof roleConditionsSchema>;
