import { readFileSync } from 'node:fs';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import * as z from 'zod';
import { clusterNameProblem } from '../auth/local/cluster-name.js';
import { durationAdvice, parseDuration } from '../core/duration.js';
import { ConfigError } from '../core/errors.js';
import { formatPath, parseWithSchema } from '../core/schema.js';
import { SIGNATURE_SUITES, type SignatureSuiteName } from '../pki/signature-suite.js';
import { resourceNameProblem, resourceNameSchema } from '../resources/metadata.js';
import { parseResource, type Resource } from '../resources/resource.js';
import { describeResource, findRepeatedResource } from '../resources/resource-identity.js';
import { readYamlDocuments, toYamlDocuments } from '../resources/yaml-documents.js';
import { botNameProblem } from './bot-name-rules.js';
import {
  type BotField,
  botTimesProblem,
  DEFAULT_BOT_TIMES,
  outputFieldsProblem,
  outputRolesProblem,
} from './bot-rules.js';
import { stackOutputIdClash } from './bot-stack-output-ids.js';
import { refuseRepeatedReaders } from './deployment-readers.js';
import { refuseSharedSecretNames } from './deployment-secret-names.js';
import { refuseCappedLifetimes } from './deployment-session-caps.js';
import { type DeploymentWarning, deploymentWarnings } from './deployment-warnings.js';
import { FILE_WORDS } from './deployment-words.js';
import { secretNamePrefixProblem } from './secret-name-prefix-rule.js';

/**
 * The deployment file `cdk deploy` reads (`deploy/example.yaml` documents every field): the cluster,
 * the resources to apply, and the bots with their outputs. Parsed strictly: unknown keys, wrong types,
 * YAML anchors, aliases and duplicate keys are refused with the path and line of the offending value,
 * and so is what the constructs would refuse at synth: the bot rules they share (`bot-rules.ts`:
 * schedule against TTL, output fields and roles; `bot-name-rules.ts`, `secret-name-prefix-rule.ts`:
 * names), the cluster name's rule and repeated names and resources, in the file's own words.
 */

const KMS_KEY_ARN = /^arn:aws(?:-cn|-us-gov)?:kms:[a-z0-9-]+:\d{12}:key\/(?:mrk-)?[0-9a-f-]{32,36}$/;
const ROLE_ARN = /^arn:aws(?:-cn|-us-gov)?:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
const OUTPUT_TYPES = ['identity', 'application', 'kubernetes', 'ssh_host'] as const;
/** Retentions CloudWatch Logs accepts (0, "never expire", is left out: logs here should expire). */
const RETENTION_DAYS = Object.values(RetentionDays).filter(
  (days): days is number => typeof days === 'number' && days > 0,
);
/** Kinds the deployment file may apply; bots and their tokens come from `bots:`. */
const DEPLOYABLE_KINDS = ['role', 'app', 'kube_cluster', 'node'] as const;

const durationSchema = z.string({ error: 'expected a duration like 20m or 1h' }).transform((value, ctx) => {
  try {
    return parseDuration(value);
  } catch {
    ctx.addIssue({ code: 'custom', message: `expected a duration; ${durationAdvice(value)}` });
    return z.NEVER;
  }
});

// Names go into secret names, stack outputs and certificates: the resource name rule, as the constructs
// hold them to, refused here at the file's line.
const outputSchema = z.strictObject({
  name: resourceNameSchema,
  type: z.enum(OUTPUT_TYPES),
  app_name: z.string().optional(),
  specific_tls_naming: z.boolean().optional(),
  kubernetes_cluster: z.string().optional(),
  principals: z.array(z.string()).optional(),
  roles: z.array(resourceNameSchema).optional(),
});

const botFields = z.strictObject({
  name: z.string(),
  roles: z
    .array(resourceNameSchema)
    .min(
      1,
      'a bot needs at least one role; list one, e.g. roles: [access] (a role defined under resources or in the cluster)',
    ),
  renewal_interval: durationSchema.optional(),
  certificate_ttl: durationSchema.optional(),
  flexible_time_window: durationSchema.optional(),
  secret_name_prefix: z.string().optional(),
  outputs: z
    .array(outputSchema)
    .min(1, 'a bot needs at least one output; add one, e.g. outputs: [{name: ssh, type: identity}]'),
  readers: z
    .array(z.string().regex(ROLE_ARN, 'expected an IAM role ARN such as arn:aws:iam::123456789012:role/app'))
    .optional(),
});
const botSchema = botFields.superRefine(checkBotRules);

const resourceSchema = z
  .record(z.string(), z.unknown(), {
    error: 'expected a resource (a mapping with kind, version, metadata, spec)',
  })
  .superRefine((resource, ctx) => {
    const kind = resource['kind'];
    if (typeof kind === 'string' && !(DEPLOYABLE_KINDS as readonly string[]).includes(kind)) {
      ctx.addIssue({
        code: 'custom',
        path: ['kind'],
        input: kind,
        message:
          kind === 'bot' || kind === 'token'
            ? `${kind} resources come from the bots: section (each bot gets its IAM join token); remove it from resources`
            : `resources may be ${DEPLOYABLE_KINDS.join(', ')}`,
      });
    }
  });

/**
 * The name, schedule and output rules the `MachineIdBot` construct enforces, checked here too so that a
 * mistake is reported in the file's words, at its line (`bots[0].renewal_interval (line 12)`), rather
 * than by the construct in CDK terms (`renewalInterval`, `Duration.minutes(20)`).
 */
function checkBotRules(bot: z.output<typeof botFields>, ctx: z.RefinementCtx): void {
  const { field } = FILE_WORDS;
  bot.roles.forEach((role, index) => {
    const earlier = bot.roles.indexOf(role);
    if (earlier < index) {
      ctx.addIssue({
        code: 'custom',
        path: ['roles', index],
        message: `roles[${earlier}] is this role already; list it once`,
      });
    }
  });
  const name = botNameProblem(bot.name, FILE_WORDS);
  if (name !== undefined) ctx.addIssue({ code: 'custom', path: [field.botName], message: name.message });
  // Unset, it defaults to machine-id/<name>/, which a valid name keeps valid.
  if (bot.secret_name_prefix !== undefined) {
    const prefix = secretNamePrefixProblem(
      bot.secret_name_prefix,
      bot.outputs.map((output) => output.name),
      FILE_WORDS,
    );
    if (prefix !== undefined) {
      ctx.addIssue({ code: 'custom', path: [field.secretNamePrefix], message: prefix.message });
    }
  }
  const times = botTimesProblem(
    {
      renewalIntervalMs: bot.renewal_interval ?? DEFAULT_BOT_TIMES.renewalIntervalMs,
      certificateTtlMs: bot.certificate_ttl ?? DEFAULT_BOT_TIMES.certificateTtlMs,
      flexibleTimeWindowMs: bot.flexible_time_window ?? DEFAULT_BOT_TIMES.flexibleTimeWindowMs,
    },
    FILE_WORDS,
  );
  if (times !== undefined) {
    // Point at a field the file sets (a default cannot be edited where it is not written).
    const set = (name: BotField) => (bot as Record<string, unknown>)[field[name]] !== undefined;
    const at = times.fields.find(set) ?? times.fields[0];
    ctx.addIssue({ code: 'custom', path: [field[at]], message: times.message });
  }
  bot.outputs.forEach((output, index) => {
    const problem = outputFieldsProblem(
      {
        type: output.type,
        appName: output.app_name,
        specificTlsNaming: output.specific_tls_naming,
        kubernetesCluster: output.kubernetes_cluster,
        principals: output.principals,
      },
      FILE_WORDS,
    );
    if (problem !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['outputs', index, field[problem.fields[0]]],
        message: problem.message,
      });
    }
    // A role name that breaks the name rule is refused on its own; whether the bot holds it says nothing.
    const named = [...bot.roles, ...(output.roles ?? [])].every(
      (role) => resourceNameProblem(role) === undefined,
    );
    const roles = named ? outputRolesProblem(output.roles, bot.roles) : undefined;
    if (roles !== undefined) {
      const at = roles.role === undefined ? [] : [roles.role];
      ctx.addIssue({ code: 'custom', path: ['outputs', index, 'roles', ...at], message: roles.message });
    }
  });
  refuseRepeatedNames(bot.outputs, ctx, 'outputs', ['outputs'], 'its secret is named after it');
}

/**
 * Refuses a name given to two entries of a list, at the second one, naming the first. Without this, a
 * repeated bot or output name would reach the stack, which reports it as a clash of stack output names.
 */
function refuseRepeatedNames(
  entries: ReadonlyArray<{ readonly name: string }>,
  ctx: z.RefinementCtx,
  list: string,
  path: PropertyKey[],
  why: string,
): void {
  const first = new Map<string, number>();
  entries.forEach((entry, index) => {
    const earlier = first.get(entry.name);
    if (earlier === undefined) {
      first.set(entry.name, index);
      return;
    }
    ctx.addIssue({
      code: 'custom',
      path: [...path, index, 'name'],
      message: `${list}[${earlier}] has this name already; give each its own name (${why})`,
    });
  });
}

/**
 * Refuses two bots or outputs whose stack output names would be one (`ci-deploy`, `ci_deploy`), at the
 * second one's name and line; the stack would refuse them at synth, without a line. Names written alike
 * are left to {@link refuseRepeatedNames}, which says so.
 */
function refuseStackOutputIdClash(bots: z.output<typeof botSchema>[], ctx: z.RefinementCtx): void {
  const clash = stackOutputIdClash(bots);
  if (clash === undefined || clash.repeated) return;
  const at = clash.output === undefined ? [] : ['outputs', clash.output];
  ctx.addIssue({ code: 'custom', path: [clash.bot, ...at, 'name'], message: clash.message });
}

/** The schema of a deployment file (see `deploy/example.yaml` for what each field means). */
export const deploymentSchema = z.strictObject({
  cluster_name: z
    .string({ error: 'expected the cluster name, e.g. cluster_name: prod.example.com' })
    // MachineIdAuth holds clusterName to this rule too; refused here, it is told at the file's line.
    .superRefine((name, ctx) => {
      const problem = clusterNameProblem(name);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    }),
  signature_suite: z.enum(SIGNATURE_SUITES as [SignatureSuiteName, ...SignatureSuiteName[]]).optional(),
  kms_key_arn: z
    .string()
    .regex(
      KMS_KEY_ARN,
      'expected a KMS key ARN such as arn:aws:kms:eu-west-1:123456789012:key/<key id> (not an alias)',
    )
    .optional(),
  log_retention_days: z
    .number()
    .refine((days) => RETENTION_DAYS.includes(days), {
      message: `expected a retention CloudWatch Logs offers: ${RETENTION_DAYS.join(', ')}`,
    })
    .optional(),
  resources: z.array(resourceSchema).default([]),
  bots: z
    .array(botSchema)
    .default([])
    .superRefine((bots, ctx) => {
      refuseRepeatedNames(
        bots,
        ctx,
        'bots',
        [],
        'its Lambda, output secrets and join token are named after it',
      );
      refuseStackOutputIdClash(bots, ctx);
      refuseSharedSecretNames(bots, ctx);
    }),
});

/** A parsed deployment file. Durations are milliseconds. */
export type Deployment = z.output<typeof deploymentSchema> & {
  /** `resources` as multi-document YAML, checked against the resource schemas. */
  readonly resourcesYaml: string | undefined;
  /**
   * Names a path of the file as its refusals do, `deploy/prod.yaml: kms_key_arn (line 8)`: for checks
   * that need the stack (its region), made after the file is parsed.
   */
  readonly where: (path: readonly PropertyKey[]) => string;
  /** What synth should warn of, in the file's words (`deployment-warnings.ts`). */
  readonly warnings: readonly DeploymentWarning[];
};
/** One entry of `bots:`. */
export type DeploymentBot = Deployment['bots'][number];
/** One output of a bot in the deployment file. */
export type DeploymentOutput = DeploymentBot['outputs'][number];

/**
 * Parses a deployment file's text.
 *
 * @param source names the file in errors.
 * @throws ConfigError `invalid_deployment` naming the path (and line) of every problem found, or
 *   `invalid_yaml` / `invalid_resource` for unreadable YAML or an invalid resource.
 */
export function parseDeployment(text: string, source: string): Deployment {
  const documents = readYamlDocuments(text, source);
  const [document, second] = documents;
  if (document === undefined) {
    throw new ConfigError(
      'invalid_deployment',
      `${source}: the file is empty; start from deploy/example.yaml`,
    );
  }
  if (second !== undefined) {
    throw new ConfigError(
      'invalid_deployment',
      `${source}: line ${second.line} starts a second YAML document; a deployment file holds one (put resources under resources:)`,
    );
  }
  const parsed = parseWithSchema(deploymentSchema, document.value, {
    root: '',
    code: 'invalid_deployment',
    error: (code, message) => new ConfigError(code, `${source}: ${message}`),
    locate: document.locate,
  });
  // Each resource's errors give the line in this file of what they are about, not of the resource.
  const resources = parsed.resources.map((resource, index) =>
    parseResource(resource, `${source}: resources[${index}]`, (path) =>
      document.locate(['resources', index, ...path]),
    ),
  );
  refuseRepeatedResources(resources, source, document.locate);
  refuseRepeatedReaders(parsed.bots, source, document.locate);
  refuseCappedLifetimes(parsed.bots, resources, source, document.locate);
  const resourcesYaml = parsed.resources.length === 0 ? undefined : toYamlDocuments(parsed.resources);
  const warnings = deploymentWarnings(parsed.bots, resources, parsed.cluster_name, document.locate).map(
    (warning) => ({ ...warning, message: `${source}: ${warning.message}` }),
  );
  const where = (path: readonly PropertyKey[]) => {
    const line = document.locate(path);
    return `${source}: ${formatPath(path)}${line === undefined ? '' : ` (${line})`}`;
  };
  return { ...parsed, resourcesYaml, warnings, where };
}

/**
 * Refuses a resource defined twice (the same kind and name), at the second, naming the first: the
 * auth's custom resource would refuse the list at synth, in its own terms and without a line, as
 * `midctl create -f` and the admin API refuse such a batch.
 */
function refuseRepeatedResources(
  resources: readonly Resource[],
  source: string,
  locate: (path: readonly PropertyKey[]) => string | undefined,
): void {
  const repeated = findRepeatedResource(resources);
  if (repeated === undefined) return;
  const at = (index: number): string => {
    const line = locate(['resources', index]);
    return `resources[${index}]${line === undefined ? '' : ` (${line})`}`;
  };
  throw new ConfigError(
    'invalid_deployment',
    `${source}: ${at(repeated.index)}: ${describeResource(repeated.resource)} is also ${at(repeated.first)}; keep one of them`,
  );
}

/** Reads and parses the deployment file at `path`. */
export function loadDeployment(path: string): Deployment {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(
      'invalid_deployment',
      `cannot read the deployment file ${path} (${(error as NodeJS.ErrnoException).code ?? String(error)}); pass one with -c deployment=<file> or MID_DEPLOYMENT=<file>`,
      { cause: error },
    );
  }
  return parseDeployment(text, path);
}
