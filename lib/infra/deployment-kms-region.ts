import { Annotations, type Stack } from 'aws-cdk-lib';
import { ConfigError } from '../core/errors.js';
import { KMS_KEY_REGION_UNCHECKED, kmsKeyRegionProblem } from './kms-key-region-rule.js';

/**
 * Checks the deployment file's `kms_key_arn` against the region the stack deploys to
 * (`kms-key-region-rule.ts`): the table, the CA secret and every output secret name it, and a key of
 * another region fails the deploy at the table, the first of them. Caught at synth when the stack's
 * region is known (`bin/app.ts` builds the stack for the CLI's region when the CLI has credentials);
 * in an environment-agnostic stack, the region the key needs is told as a warning, as readers'
 * accounts are.
 *
 * @param at names the field as refusals do: `deploy/prod.yaml: kms_key_arn (line 8)`.
 * @throws ConfigError `invalid_deployment` naming both regions and the fix.
 */
export function checkKmsKeyRegion(stack: Stack, keyArn: string, at: string): void {
  // arn:<partition>:kms:<region>:<account>:key/<id>, as the schema holds it to.
  const keyRegion = keyArn.split(':')[3] ?? '';
  const problem = kmsKeyRegionProblem(stack.region, keyRegion, {
    key: `got "${keyArn}"`,
    users: 'the table, the CA secret and the output secrets',
    useAnotherKey:
      'use the ARN of a key in the region you deploy to (of a multi-Region key, its replica there)',
  });
  if (problem?.refusal !== undefined) {
    throw new ConfigError('invalid_deployment', `${at}: ${problem.refusal}`);
  }
  if (problem?.warning !== undefined) {
    Annotations.of(stack).addWarningV2(KMS_KEY_REGION_UNCHECKED, `${at}: ${problem.warning}`);
  }
}
