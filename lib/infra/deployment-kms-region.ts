import { Annotations, type Stack, Token, TokenComparison } from 'aws-cdk-lib';
import { ConfigError } from '../core/errors.js';

/**
 * Checks the deployment file's `kms_key_arn` against the region the stack deploys to. A KMS key is used
 * only in its own region, and the table, the CA secret and every output secret name it: a key of
 * another region fails the deploy at the table, the first of them, and is caught at synth when the
 * stack's region is known (`bin/app.ts` builds the stack for the CLI's region when the CLI has
 * credentials). An environment-agnostic stack learns its region only at deploy, so there the region
 * the key needs is told as a warning, as readers' accounts are.
 *
 * @param at names the field as refusals do: `deploy/prod.yaml: kms_key_arn (line 8)`.
 * @throws ConfigError `invalid_deployment` naming both regions and the fix.
 */
export function checkKmsKeyRegion(stack: Stack, keyArn: string, at: string): void {
  // arn:<partition>:kms:<region>:<account>:key/<id>, as the schema holds it to.
  const keyRegion = keyArn.split(':')[3] ?? '';
  const useAnotherKey =
    'use the ARN of a key in the region you deploy to (of a multi-Region key, its replica there)';
  const comparison = Token.compareStrings(stack.region, keyRegion);
  if (comparison === TokenComparison.DIFFERENT) {
    throw new ConfigError(
      'invalid_deployment',
      `${at}: got "${keyArn}", a key in ${keyRegion}, but the stack deploys to ${stack.region}; a KMS key is used only in its own region, so the table, the CA secret and the output secrets could not use it and the deploy would fail; ${useAnotherKey}, or deploy to ${keyRegion}`,
    );
  }
  if (comparison === TokenComparison.SAME) return;
  Annotations.of(stack).addWarningV2(
    'machine-id:kms-key-region-unchecked',
    `${at}: the key is in ${keyRegion}; the stack's region is not known at synth (an environment-agnostic stack: the CDK CLI had no AWS credentials, or the stack no \`env\`), and if it is another one, the deploy fails, as a KMS key is used only in its own region; deploy to ${keyRegion}, or ${useAnotherKey}`,
  );
}
