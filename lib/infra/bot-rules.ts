/**
 * Rules a bot's schedule and outputs must meet, written once for the two ways of declaring a bot: the
 * `MachineIdBot` construct (camelCase props, CDK `Duration`s) and the deployment file (snake_case keys,
 * durations like `20m`). Each rule names the field, its value and the fix in the reader's own words
 * ({@link BotFieldWords}): a mistake in a deployment file is not explained with CDK code, and the file's
 * schema can point at the line. No CDK import here, so that the deployment schema can use them.
 */

/** The fields these rules speak of, by their construct prop names. */
export type BotField =
  | 'botName'
  | 'secretNamePrefix'
  | 'renewalInterval'
  | 'certificateTtl'
  | 'flexibleTimeWindow'
  | 'appName'
  | 'specificTlsNaming'
  | 'kubernetesCluster'
  | 'principals';

/** How a reader names fields and writes durations. */
export interface BotFieldWords {
  readonly field: Readonly<Record<BotField, string>>;
  /** A duration as the reader would write it in the fix, e.g. `Duration.minutes(20)` or `20m`. */
  readonly written: (ms: number) => string;
  /** A duration in a sentence, e.g. `20 minutes` or `20m`. */
  readonly said: (ms: number) => string;
}

/** A broken rule: the fields involved (the first is the one to change) and the whole explanation. */
export interface BotRuleProblem {
  readonly fields: readonly [BotField, ...BotField[]];
  readonly message: string;
}

/** A bot's durations with defaults applied, in milliseconds. */
export interface BotTimes {
  readonly renewalIntervalMs: number;
  readonly certificateTtlMs: number;
  readonly flexibleTimeWindowMs: number;
}

/** What a bot's durations default to in both the construct and the deployment file. */
export const DEFAULT_BOT_TIMES: BotTimes = Object.freeze({
  renewalIntervalMs: 20 * 60_000,
  certificateTtlMs: 3_600_000,
  flexibleTimeWindowMs: 5 * 60_000,
});

/** An output's Expiry alarm fires when its certificates have less than the renewal interval plus this. */
export const EXPIRY_ALARM_MARGIN_MS = 10 * 60_000;

/**
 * The shortest renewal interval of a bot Lambda: each run puts a new version of each output secret, and
 * Secrets Manager removes no version younger than a day (its guidance: at most one write per 10 minutes).
 */
const MIN_RENEWAL_MINUTES = 10;
/** EventBridge Scheduler's longest flexible time window. */
const MAX_WINDOW_MINUTES = 1440;

/** The output fields as a rule reads them (the construct's props; the file's keys are mapped onto these). */
export interface BotOutputFields {
  readonly type: string;
  readonly appName?: string | undefined;
  readonly specificTlsNaming?: boolean | undefined;
  readonly kubernetesCluster?: string | undefined;
  readonly principals?: readonly string[] | undefined;
}

/** The agent config's rule for app, cluster and host names. */
const AGENT_NAME = /^[A-Za-z0-9_][A-Za-z0-9._@-]{0,252}$/;

/** The first schedule rule `times` breaks, or undefined. */
export function botTimesProblem(times: BotTimes, words: BotFieldWords): BotRuleProblem | undefined {
  const { field: f, written, said } = words;
  const interval = times.renewalIntervalMs;
  const ttl = times.certificateTtlMs;
  const window = times.flexibleTimeWindowMs;
  const minutes = interval / 60_000;
  if (!Number.isInteger(minutes) || minutes < 1) {
    return {
      fields: ['renewalInterval'],
      message: `${f.renewalInterval} is ${said(interval)}; EventBridge Scheduler runs at whole minutes, so use e.g. ${written(20 * 60_000)}`,
    };
  }
  if (minutes < MIN_RENEWAL_MINUTES) {
    return {
      fields: ['renewalInterval'],
      message: `${f.renewalInterval} is ${said(interval)}; use at least ${MIN_RENEWAL_MINUTES} minutes: each run puts a new version of every output secret, and Secrets Manager keeps versions younger than a day, so writing more often than every ${MIN_RENEWAL_MINUTES} minutes fills a secret's version quota and the bot's writes start failing`,
    };
  }
  const windowMinutes = window / 60_000;
  if (!Number.isInteger(windowMinutes) || windowMinutes < 0 || windowMinutes > MAX_WINDOW_MINUTES) {
    return {
      fields: ['flexibleTimeWindow'],
      message: `${f.flexibleTimeWindow} is ${said(window)}; use whole minutes from 0 (off) to ${MAX_WINDOW_MINUTES}, e.g. ${written(5 * 60_000)}`,
    };
  }
  // Each rule below holds certificate_ttl to its own floor; a refusal names the highest, so that one
  // change of certificate_ttl is enough (25m refused for the window, then 26m for the alarm, was not).
  const threshold = interval + EXPIRY_ALARM_MARGIN_MS;
  const leastTtl = `; keeping ${f.renewalInterval} and ${f.flexibleTimeWindow}, ${f.certificateTtl} must be over ${said(Math.max(interval + window, threshold))}`;
  if (interval >= ttl) {
    return {
      fields: ['renewalInterval', 'certificateTtl'],
      message: `${f.renewalInterval} (${said(interval)}) must be shorter than ${f.certificateTtl} (${said(ttl)}), or certificates expire before they are renewed; lower ${f.renewalInterval} or raise ${f.certificateTtl}${leastTtl}`,
    };
  }
  if (interval + window >= ttl) {
    return {
      fields: ['flexibleTimeWindow', 'renewalInterval', 'certificateTtl'],
      message: `${f.renewalInterval} (${said(interval)}) plus ${f.flexibleTimeWindow} (${said(window)}) must be shorter than ${f.certificateTtl} (${said(ttl)}): a run may start that late, after the certificates expired; lower either, or raise ${f.certificateTtl}${leastTtl}`,
    };
  }
  if (threshold >= ttl) {
    return {
      fields: ['certificateTtl', 'renewalInterval'],
      message: `${f.certificateTtl} (${said(ttl)}) must be longer than ${f.renewalInterval} plus ${said(EXPIRY_ALARM_MARGIN_MS)} (${said(threshold)}): each output's Expiry alarm fires when its certificates have less than that left, which freshly written ones would, so it would never clear; raise ${f.certificateTtl} or lower ${f.renewalInterval}${leastTtl}`,
    };
  }
  return undefined;
}

/**
 * The first rule an output's type-specific fields break, or undefined: each field belongs to one type,
 * and application and kubernetes outputs name what they are for.
 */
export function outputFieldsProblem(
  output: BotOutputFields,
  words: BotFieldWords,
): BotRuleProblem | undefined {
  const { field: f } = words;
  const owners: Array<[BotField & keyof BotOutputFields, string]> = [
    ['appName', 'application'],
    ['specificTlsNaming', 'application'],
    ['kubernetesCluster', 'kubernetes'],
    ['principals', 'ssh_host'],
  ];
  for (const [field, type] of owners) {
    if (output[field] !== undefined && output.type !== type) {
      return {
        fields: [field],
        message: `${f[field]} only applies to ${type} outputs, and this one is ${output.type}; remove ${f[field]} or set type: ${type}`,
      };
    }
  }
  const named = (field: 'appName' | 'kubernetesCluster', what: string): BotRuleProblem | undefined => {
    const value = output[field];
    if (value === undefined) {
      return {
        fields: [field],
        message: `an output of type ${output.type} needs ${f[field]}, the name of the ${what}`,
      };
    }
    return AGENT_NAME.test(value)
      ? undefined
      : {
          fields: [field],
          message: `${f[field]} "${value}" is not a valid name; use letters, digits and . _ @ -`,
        };
  };
  if (output.type === 'application') return named('appName', '`app` resource');
  if (output.type === 'kubernetes') return named('kubernetesCluster', '`kube_cluster` resource');
  if (output.type !== 'ssh_host') return undefined;
  if (output.principals === undefined || output.principals.length === 0) {
    return {
      fields: ['principals'],
      message: `an ssh_host output needs ${f.principals}, the host names its certificate is for, e.g. ["node1.example.com"]`,
    };
  }
  const bad = output.principals.find((principal) => !AGENT_NAME.test(principal));
  return bad === undefined
    ? undefined
    : {
        fields: ['principals'],
        message: `${f.principals}: "${bad}" is not a valid host name; use letters, digits and . _ @ -`,
      };
}

/**
 * The first rule an output's `roles` break, or undefined: it narrows the output's certificates to some
 * of the bot's roles, so it may name only roles the bot holds, and at least one (left out, the output
 * gets them all). Both readers call the field `roles`; `role` is the index of the role to change.
 */
export function outputRolesProblem(
  outputRoles: readonly string[] | undefined,
  botRoles: readonly string[],
): { readonly role?: number; readonly message: string } | undefined {
  if (outputRoles === undefined) return undefined;
  const role = outputRoles.findIndex((name) => !botRoles.includes(name));
  if (role !== -1) {
    return {
      role,
      message: `the bot does not hold role "${outputRoles[role]}"; an output may only ask for roles the bot has (${botRoles.join(', ')}), so add it to the bot's roles or remove it here`,
    };
  }
  return outputRoles.length === 0
    ? { message: "no role is asked for; remove it to use all the bot's roles, or list some" }
    : undefined;
}
