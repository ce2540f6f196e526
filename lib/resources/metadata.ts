import * as z from 'zod';
import { builtOnFirstUse } from '../core/built-on-first-use.js';
import { checkedString, describeCharacter, findCharacterOutside, findUnsafeCharacter } from './text.js';

/** The rule for every resource name, as error messages state it. */
export const RESOURCE_NAME_RULE =
  'a name is 1 to 63 letters, digits, ".", "_" or "-", starts with a letter or digit and has no ".."';

const NAME_CHARACTER = /[a-zA-Z0-9._-]/;

/**
 * What is wrong with a resource name, or undefined when it is fine. Names end up in certificates
 * (bot and role names, cluster and app names), file names and storage keys, so only characters that
 * are inert in all of them are accepted (SECURITY rule 9).
 */
export function resourceNameProblem(name: string): string | undefined {
  if (name.length === 0) return `the name is empty; ${RESOURCE_NAME_RULE}`;
  if (name.length > 63) return `the name is ${name.length} characters long; ${RESOURCE_NAME_RULE}`;
  const bad = findCharacterOutside(name, NAME_CHARACTER);
  if (bad !== undefined) return `${describeCharacter(bad)} is not allowed in a name; ${RESOURCE_NAME_RULE}`;
  if (!/^[a-zA-Z0-9]/.test(name))
    return `a name cannot start with ${JSON.stringify(name[0])}; ${RESOURCE_NAME_RULE}`;
  if (name.includes('..')) return `".." is not allowed in a name; ${RESOURCE_NAME_RULE}`;
  return undefined;
}

/** A resource name (see {@link RESOURCE_NAME_RULE}). */
export const resourceNameSchema = builtOnFirstUse(() => checkedString(resourceNameProblem));

const LABEL_KEY_RULE = 'label keys are 1 to 128 letters, digits, "/", ".", "_", ":" or "-"';
const LABEL_KEY_CHARACTER = /[a-zA-Z0-9/._:-]/;
const MAX_LABEL_VALUE = 256;
const MAX_LABELS = 64;

function labelKeyProblem(key: string): string | undefined {
  if (key.length === 0 || key.length > 128) return `expected 1 to 128 characters; ${LABEL_KEY_RULE}`;
  const bad = findCharacterOutside(key, LABEL_KEY_CHARACTER);
  return bad === undefined ? undefined : `${describeCharacter(bad)} is not allowed; ${LABEL_KEY_RULE}`;
}

function labelValueProblem(value: string): string | undefined {
  if (value.length > MAX_LABEL_VALUE) return `a label value is at most ${MAX_LABEL_VALUE} characters`;
  const bad = findUnsafeCharacter(value);
  if (bad !== undefined) return `${describeCharacter(bad)} is not allowed in a label value`;
  return undefined;
}

function selectorValueProblem(value: string): string | undefined {
  const problem = labelValueProblem(value);
  if (problem !== undefined) return problem;
  if (value.length > 1 && value.startsWith('^') && value.endsWith('$')) {
    return 'regular expressions are not supported in label selectors; use "*" as a wildcard, e.g. "web-*"';
  }
  return undefined;
}

/** Labels on a resource: `env: prod`. */
export const labelsSchema = builtOnFirstUse(() =>
  z
    .record(checkedString(labelKeyProblem), checkedString(labelValueProblem))
    .refine((labels) => Object.keys(labels).length <= MAX_LABELS, {
      message: `a resource has at most ${MAX_LABELS} labels`,
    }),
);

/** Labels on a resource. */
export type Labels = z.infer<typeof labelsSchema>;

/**
 * A label selector in a role (`node_labels`, `app_labels`, `kubernetes_labels`): each key maps to one
 * value or a list of values, any of which may match; `*` inside a value is a wildcard and `'*': '*'`
 * selects everything.
 */
export const labelSelectorSchema = builtOnFirstUse(() => {
  const valueSchema = checkedString(selectorValueProblem);
  return z
    .record(
      checkedString((key) => (key === '*' ? undefined : labelKeyProblem(key))),
      z.union([valueSchema, z.array(valueSchema).min(1, 'expected at least one value')], {
        error: 'expected a label value or a list of label values (quote numbers: "1")',
      }),
    )
    .superRefine((selector, ctx) => {
      const wildcard = selector['*'];
      if (wildcard === undefined) return;
      const values = Array.isArray(wildcard) ? wildcard : [wildcard];
      if (values.some((value) => value !== '*')) {
        ctx.addIssue({
          code: 'custom',
          path: ['*'],
          input: wildcard,
          message: `the key "*" only takes the value "*" ('*': '*' selects everything); name a label key to select by value`,
        });
      }
    })
    .refine((selector) => Object.keys(selector).length <= MAX_LABELS, {
      message: `a selector has at most ${MAX_LABELS} keys`,
    });
});

/** A label selector (see {@link labelSelectorSchema}). */
export type LabelSelector = z.infer<typeof labelSelectorSchema>;

function descriptionProblem(value: string): string | undefined {
  if (value.length > 1024) return 'a description is at most 1024 characters';
  const bad = findUnsafeCharacter(value.replace(/[\n\t]/g, ' '));
  if (bad !== undefined) return `${describeCharacter(bad)} is not allowed in a description`;
  return undefined;
}

/** A free-text description: line breaks and tabs allowed, other control characters not. */
export const descriptionSchema = builtOnFirstUse(() => checkedString(descriptionProblem));

/** `metadata` shared by the kinds an operator writes. */
export const metadataSchema = builtOnFirstUse(() =>
  z
    .strictObject({
      name: resourceNameSchema,
      description: descriptionSchema.optional(),
      labels: labelsSchema.optional(),
      ...teleportExportFields(),
    })
    .transform(withoutTeleportExportFields),
);

/**
 * Metadata that `tctl get` writes into an export and that means nothing here: `revision` (Teleport's
 * optimistic locking) and `namespace` (always `default`). Accepted so that an exported resource pastes
 * as it is, and dropped.
 */
export function teleportExportFields() {
  return {
    revision: z.string().max(128).optional(),
    namespace: z
      .literal('default', {
        error: 'only the default namespace exists; write namespace: default or leave it out',
      })
      .optional(),
  };
}

/** The metadata without what {@link teleportExportFields} accepts. */
export function withoutTeleportExportFields<T extends { revision?: string; namespace?: string }>(
  metadata: T,
): Omit<T, 'revision' | 'namespace'> {
  const { revision: _revision, namespace: _namespace, ...rest } = metadata;
  return rest;
}

/** `metadata` of a resource. */
export type Metadata = z.infer<typeof metadataSchema>;
