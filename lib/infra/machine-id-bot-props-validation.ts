import { type Duration, Stack } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { resourceNameProblem } from '../resources/metadata.js';
import { iamTokenName } from './bot-join-resources.js';
import { invalidProps } from './invalid-props.js';
import type { MachineIdBotProps } from './machine-id-bot.js';
import {
  EXPIRY_ALARM_MARGIN,
  type MachineIdBotOutputProps,
  type MachineIdOutputType,
} from './machine-id-bot-output.js';

/** The props with their defaults applied, as the construct uses them. */
export interface ResolvedTimes {
  readonly renewalInterval: Duration;
  readonly certificateTtl: Duration;
  readonly flexibleWindow: Duration;
  readonly secretNamePrefix: string;
}

/**
 * The shortest renewal interval of a bot Lambda: each run puts a new version of each output secret, and
 * Secrets Manager removes no version younger than a day (its guidance: at most one write per 10 minutes).
 */
const MIN_LAMBDA_RENEWAL_MINUTES = 10;

const OUTPUT_TYPES: readonly MachineIdOutputType[] = ['identity', 'application', 'kubernetes', 'ssh_host'];

/** The agent config's rule for app, cluster and host names. */
const AGENT_NAME = /^[A-Za-z0-9_][A-Za-z0-9._@-]{0,252}$/;
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]*$/;
/** `<botName>-iam` must itself be a valid resource name (at most 63 characters). */
const MAX_BOT_NAME = 63 - '-iam'.length;

/**
 * Checks a {@link MachineIdBotProps} at synth: every refusal names the bad value and the fix, so a
 * mistake fails `cdk synth` instead of the bot's first run.
 */
export function validateMachineIdBotProps(
  scope: Construct,
  props: MachineIdBotProps,
  times: ResolvedTimes,
): void {
  const { botName } = props;
  const nameProblem = resourceNameProblem(botName);
  if (nameProblem !== undefined) {
    throw invalidProps(scope, `botName "${botName}" cannot be used: ${nameProblem}`);
  }
  if (botName.length > MAX_BOT_NAME) {
    throw invalidProps(
      scope,
      `botName "${botName}" is ${botName.length} characters long; at most ${MAX_BOT_NAME}, so that its join token "${iamTokenName(botName)}" is a valid name`,
    );
  }
  if (Stack.of(props.auth) !== Stack.of(scope)) {
    throw invalidProps(
      scope,
      `bot "${botName}" is in stack ${Stack.of(scope).stackName} but its auth is in stack ${Stack.of(props.auth).stackName}; create the bot in the auth's stack (the auth applies the bot's join token, which names the bot's role)`,
    );
  }
  validateRoles(scope, props.roles);
  validateOutputs(scope, props.outputs, props.roles, times.secretNamePrefix);
  validateTimes(scope, times);
}

function validateRoles(scope: Construct, roles: readonly string[]): void {
  if (roles.length === 0) {
    throw invalidProps(scope, 'roles is empty; a bot needs at least one role, e.g. roles: ["access"]');
  }
  const seen = new Set<string>();
  for (const role of roles) {
    const problem = resourceNameProblem(role);
    if (problem !== undefined)
      throw invalidProps(scope, `roles: "${role}" cannot be a role name: ${problem}`);
    if (seen.has(role)) throw invalidProps(scope, `roles: "${role}" is listed twice; list it once`);
    seen.add(role);
  }
}

function validateOutputs(
  scope: Construct,
  outputs: readonly MachineIdBotOutputProps[],
  botRoles: readonly string[],
  secretNamePrefix: string,
): void {
  if (outputs.length === 0) {
    throw invalidProps(
      scope,
      'outputs is empty; a bot needs at least one output, e.g. outputs: [{ name: "identity", type: "identity" }]',
    );
  }
  if (!SECRET_NAME.test(secretNamePrefix)) {
    throw invalidProps(
      scope,
      `secretNamePrefix "${secretNamePrefix}" cannot start a secret name; use letters, digits and / _ + = . @ -`,
    );
  }
  const seen = new Set<string>();
  outputs.forEach((output, index) => {
    const at = `outputs[${index}]`;
    const nameProblem = resourceNameProblem(output.name);
    if (nameProblem !== undefined) {
      throw invalidProps(scope, `${at}.name "${output.name}" cannot be used: ${nameProblem}`);
    }
    if (seen.has(output.name)) {
      throw invalidProps(scope, `${at}.name "${output.name}" is used twice; each output needs its own name`);
    }
    seen.add(output.name);
    if (`${secretNamePrefix}${output.name}`.length > 512) {
      throw invalidProps(
        scope,
        `${at}: the secret name would exceed 512 characters; shorten secretNamePrefix`,
      );
    }
    if (!OUTPUT_TYPES.includes(output.type)) {
      throw invalidProps(
        scope,
        `${at}.type "${String(output.type)}" is not an output type; use one of ${OUTPUT_TYPES.join(', ')}`,
      );
    }
    validateOutputFields(scope, output, at);
    for (const role of output.roles ?? []) {
      if (!botRoles.includes(role)) {
        throw invalidProps(
          scope,
          `${at}.roles: the bot does not hold role "${role}"; an output may only ask for roles the bot has (${botRoles.join(', ')}), so add it to the bot's roles or remove it here`,
        );
      }
    }
    if (output.roles !== undefined && output.roles.length === 0) {
      throw invalidProps(scope, `${at}.roles is empty; remove it to use all the bot's roles, or list some`);
    }
  });
}

function validateOutputFields(scope: Construct, output: MachineIdBotOutputProps, at: string): void {
  const fields: Array<[keyof MachineIdBotOutputProps, MachineIdOutputType]> = [
    ['appName', 'application'],
    ['specificTlsNaming', 'application'],
    ['kubernetesCluster', 'kubernetes'],
    ['principals', 'ssh_host'],
  ];
  for (const [field, type] of fields) {
    if (output[field] !== undefined && output.type !== type) {
      throw invalidProps(
        scope,
        `${at}.${field} only applies to ${type} outputs, and this one is ${output.type}; remove ${field} or set type: ${type}`,
      );
    }
  }
  const required = (field: 'appName' | 'kubernetesCluster', what: string) => {
    const value = output[field];
    if (value === undefined) {
      throw invalidProps(
        scope,
        `${at}: an output of type ${output.type} needs ${field}, the name of the ${what}`,
      );
    }
    if (!AGENT_NAME.test(value)) {
      throw invalidProps(
        scope,
        `${at}.${field} "${value}" is not a valid name; use letters, digits and . _ @ -`,
      );
    }
  };
  if (output.type === 'application') required('appName', '`app` resource');
  if (output.type === 'kubernetes') required('kubernetesCluster', '`kube_cluster` resource');
  if (output.type === 'ssh_host') {
    if (output.principals === undefined || output.principals.length === 0) {
      throw invalidProps(
        scope,
        `${at}: an ssh_host output needs principals, the host names its certificate is for, e.g. ["node1.example.com"]`,
      );
    }
    for (const principal of output.principals) {
      if (!AGENT_NAME.test(principal)) {
        throw invalidProps(
          scope,
          `${at}.principals: "${principal}" is not a valid host name; use letters, digits and . _ @ -`,
        );
      }
    }
  }
}

function validateTimes(scope: Construct, times: ResolvedTimes): void {
  const { flexibleWindow } = times;
  const interval = times.renewalInterval;
  const minutes = interval.toMinutes({ integral: false });
  if (!Number.isInteger(minutes) || minutes < 1) {
    throw invalidProps(
      scope,
      `renewalInterval is ${interval.toHumanString()}; EventBridge Scheduler runs at whole minutes, so use e.g. Duration.minutes(20)`,
    );
  }
  if (minutes < MIN_LAMBDA_RENEWAL_MINUTES) {
    throw invalidProps(
      scope,
      `renewalInterval is ${interval.toHumanString()}; use at least ${MIN_LAMBDA_RENEWAL_MINUTES} minutes: each run puts a new version of every output secret, and Secrets Manager keeps versions younger than a day, so writing more often than every ${MIN_LAMBDA_RENEWAL_MINUTES} minutes fills a secret's version quota and the bot's writes start failing`,
    );
  }
  const window = flexibleWindow.toMinutes({ integral: false });
  if (!Number.isInteger(window) || window < 0 || window > 1440) {
    throw invalidProps(
      scope,
      `flexibleTimeWindow is ${flexibleWindow.toHumanString()}; use whole minutes from 0 (off) to 1440, e.g. Duration.minutes(5)`,
    );
  }
  const ttl = times.certificateTtl;
  if (interval.toSeconds() >= ttl.toSeconds()) {
    throw invalidProps(
      scope,
      `renewalInterval (${interval.toHumanString()}) must be shorter than certificateTtl (${ttl.toHumanString()}), or certificates expire before they are renewed; lower renewalInterval or raise certificateTtl`,
    );
  }
  if (interval.toSeconds() + flexibleWindow.toSeconds() >= ttl.toSeconds()) {
    throw invalidProps(
      scope,
      `renewalInterval (${interval.toHumanString()}) plus flexibleTimeWindow (${flexibleWindow.toHumanString()}) must be shorter than certificateTtl (${ttl.toHumanString()}): a run may start that late, after the certificates expired; lower either, or raise certificateTtl`,
    );
  }
  const alarmThreshold = interval.plus(EXPIRY_ALARM_MARGIN);
  if (alarmThreshold.toSeconds() >= ttl.toSeconds()) {
    throw invalidProps(
      scope,
      `certificateTtl (${ttl.toHumanString()}) must be longer than renewalInterval plus ${EXPIRY_ALARM_MARGIN.toHumanString()} (${alarmThreshold.toHumanString()}): each output's Expiry alarm fires when its certificates have less than that left, which freshly written ones would, so it would never clear; raise certificateTtl or lower renewalInterval`,
    );
  }
}
