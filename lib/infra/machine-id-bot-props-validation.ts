import { Annotations, Duration, Stack, Token } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type { Construct } from 'constructs';
import { resourceNameProblem } from '../resources/metadata.js';
import { botNameProblem } from './bot-name-rules.js';
import { type BotFieldWords, botTimesProblem, outputFieldsProblem, outputRolesProblem } from './bot-rules.js';
import { describePrincipal } from './describe-principal.js';
import { invalidProps } from './invalid-props.js';
import { KMS_KEY_REGION_UNCHECKED, kmsKeyRegionProblem } from './kms-key-region-rule.js';
import type { MachineIdBotProps } from './machine-id-bot.js';
import type { MachineIdBotOutputProps, MachineIdOutputType } from './machine-id-bot-output.js';
import { repeatedReaderProblem } from './repeated-reader-rule.js';
import { secretNamePrefixProblem } from './secret-name-prefix-rule.js';

/** The props with their defaults applied, as the construct uses them. */
export interface ResolvedTimes {
  readonly renewalInterval: Duration;
  readonly certificateTtl: Duration;
  readonly flexibleWindow: Duration;
  readonly secretNamePrefix: string;
}

const OUTPUT_TYPES: readonly MachineIdOutputType[] = ['identity', 'application', 'kubernetes', 'ssh_host'];

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
  const nameProblem = botNameProblem(botName, PROP_WORDS);
  if (nameProblem !== undefined) throw invalidProps(scope, nameProblem.message);
  if (Stack.of(props.auth) !== Stack.of(scope)) {
    throw invalidProps(
      scope,
      `bot "${botName}" is in stack ${Stack.of(scope).stackName} but its auth is in stack ${Stack.of(props.auth).stackName}; create the bot in the auth's stack (the auth applies the bot's join token, which names the bot's role)`,
    );
  }
  validateRoles(scope, props.roles);
  validateOutputs(scope, props.outputs, props.roles, times.secretNamePrefix);
  validateTimes(scope, times);
  validateReaders(scope, props.readers ?? []);
  if (props.kmsKey !== undefined) validateKmsKey(scope, props.kmsKey);
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
  const prefixProblem = secretNamePrefixProblem(
    secretNamePrefix,
    outputs.map((output) => output.name),
    PROP_WORDS,
  );
  if (prefixProblem !== undefined) throw invalidProps(scope, prefixProblem.message);
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
    if (!OUTPUT_TYPES.includes(output.type)) {
      throw invalidProps(
        scope,
        `${at}.type "${String(output.type)}" is not an output type; use one of ${OUTPUT_TYPES.join(', ')}`,
      );
    }
    validateOutputFields(scope, output, at);
    const rolesProblem = outputRolesProblem(output.roles, botRoles);
    if (rolesProblem !== undefined) throw invalidProps(scope, `${at}.roles: ${rolesProblem.message}`);
  });
}

/** How the construct's refusals name fields and durations: as its props and CDK code do. */
const PROP_WORDS: BotFieldWords = {
  field: {
    botName: 'botName',
    secretNamePrefix: 'secretNamePrefix',
    renewalInterval: 'renewalInterval',
    certificateTtl: 'certificateTtl',
    flexibleTimeWindow: 'flexibleTimeWindow',
    appName: 'appName',
    specificTlsNaming: 'specificTlsNaming',
    kubernetesCluster: 'kubernetesCluster',
    principals: 'principals',
  },
  written: (ms) => (ms % 60_000 === 0 ? `Duration.minutes(${ms / 60_000})` : `Duration.millis(${ms})`),
  said: (ms) => Duration.millis(ms).toHumanString(),
};

function validateOutputFields(scope: Construct, output: MachineIdBotOutputProps, at: string): void {
  const problem = outputFieldsProblem(output, PROP_WORDS);
  if (problem !== undefined) throw invalidProps(scope, `${at}: ${problem.message}`);
}

function validateTimes(scope: Construct, times: ResolvedTimes): void {
  const problem = botTimesProblem(
    {
      renewalIntervalMs: times.renewalInterval.toMilliseconds(),
      certificateTtlMs: times.certificateTtl.toMilliseconds(),
      flexibleTimeWindowMs: times.flexibleWindow.toMilliseconds(),
    },
    PROP_WORDS,
  );
  if (problem !== undefined) throw invalidProps(scope, problem.message);
}

/** Refuses a reader given twice (`repeated-reader-rule.ts` says why). */
function validateReaders(scope: Construct, readers: readonly iam.IPrincipal[]): void {
  const stack = Stack.of(scope);
  const problem = repeatedReaderProblem(
    readers,
    // One reader, however written, when IAM would read it alike: an ARN given twice, a role passed
    // twice, an ArnPrincipal of a role of this app and the role itself.
    (reader) =>
      JSON.stringify(
        stack.resolve({
          principal: reader.policyFragment.principalJson,
          conditions: reader.policyFragment.conditions,
        }),
      ),
    {
      at: (index) => `readers[${index}]`,
      reader: (index) => describePrincipal(readers[index] as iam.IPrincipal),
      instead: 'another principal, put that one there',
    },
  );
  if (problem !== undefined) throw invalidProps(scope, problem);
}

/**
 * Refuses a key of another region than the stack's, and warns of one whose region synth cannot compare
 * with an environment-agnostic stack's (`kms-key-region-rule.ts`).
 */
function validateKmsKey(scope: Construct, key: kms.IKey): void {
  const problem = kmsKeyRegionProblem(Stack.of(scope).region, key.env.region, {
    key: `got ${Token.isUnresolved(key.keyArn) ? key.node.path : `"${key.keyArn}"`}`,
    users: "the bot's output secrets",
    useAnotherKey:
      "pass a key of the region the stack deploys to (of a multi-Region key, its replica there: kms.Key.fromKeyArn with the replica's ARN)",
  });
  if (problem?.refusal !== undefined) throw invalidProps(scope, `kmsKey: ${problem.refusal}`);
  if (problem?.warning !== undefined) {
    Annotations.of(scope).addWarningV2(KMS_KEY_REGION_UNCHECKED, `kmsKey: ${problem.warning}`);
  }
}
