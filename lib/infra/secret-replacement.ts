import { DefaultStackSynthesizer, Fn, Stack, Token } from 'aws-cdk-lib';
import type { Construct } from 'constructs';

/**
 * Actions that replace or roll back a secret's value without `PutSecretValue`: `UpdateSecret` with a
 * `SecretString` writes a new AWSCURRENT version, and `UpdateSecretVersionStage` can move AWSCURRENT
 * back to an older version (the deploy-time placeholder, or expired certificates). A resource policy
 * that keeps the value to one writer has to deny these as well as `PutSecretValue`.
 */
export const SECRET_REPLACE_ACTIONS = [
  'secretsmanager:UpdateSecret',
  'secretsmanager:UpdateSecretVersionStage',
] as const;

/**
 * The role CloudFormation deploys `scope`'s stack with, when the stack names one: the CDK bootstrap's
 * CloudFormation execution role under the DefaultStackSynthesizer (and its subclasses). It must stay
 * exempt from a deny of {@link SECRET_REPLACE_ACTIONS}: CloudFormation calls UpdateSecret when a
 * deploy changes a secret's description or KMS key. Other synthesizers deploy with the caller's own
 * credentials, which cannot be known at synth time: with those, such a deploy is denied and fails.
 */
export function deployRoleArns(scope: Construct): string[] {
  const synthesizer = Stack.of(scope).synthesizer;
  if (!(synthesizer instanceof DefaultStackSynthesizer)) return [];
  const roleArn = synthesizer.cloudFormationExecutionRoleArn;
  // The synthesizer leaves `${AWS::Partition}` (and, in an environment-agnostic stack, the account and
  // region) as placeholders for CloudFormation to fill in; a role given as a token needs no filling.
  return [Token.isUnresolved(roleArn) ? roleArn : Fn.sub(roleArn)];
}
