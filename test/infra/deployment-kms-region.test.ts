import { App } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/core/errors.js';
import { parseDeployment } from '../../lib/infra/deployment.js';
import { MachineIdStack } from '../../lib/infra/machine-id-stack.js';
import { cdkContext, INLINE_CODE } from './support.js';

// A KMS key is used only in its own region: a kms_key_arn of another region than the stack's is
// refused at synth when the stack's region is known, and told as a warning when it is decided at deploy.

const KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

const fileWith = (kmsKeyArn?: string) => `cluster_name: keys.example
${kmsKeyArn === undefined ? '' : `kms_key_arn: ${kmsKeyArn}\n`}bots:
  - name: ci
    roles: [access]
    outputs:
      - name: ssh
        type: identity
`;

/** The deployment's stack in `region`, or environment-agnostic (as `bin/app.ts` builds it) without one. */
function deploymentStack(text: string, region?: string): MachineIdStack {
  return new MachineIdStack(new App({ context: cdkContext() }), 'Keys', {
    deployment: parseDeployment(text, 'deploy/keys.yaml'),
    code: { auth: INLINE_CODE, bot: INLINE_CODE },
    ...(region === undefined ? {} : { env: { account: '123456789012', region } }),
  });
}

describe('deployment file: kms_key_arn and the stack region', () => {
  it("refuses a key of another region than the stack's, naming the field, its line, both regions and the fix", () => {
    let refusal: unknown;
    try {
      deploymentStack(fileWith(KEY_ARN), 'eu-central-1');
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(ConfigError);
    expect((refusal as ConfigError).code).toBe('invalid_deployment');
    expect((refusal as ConfigError).message).toBe(
      `deploy/keys.yaml: kms_key_arn (line 2): got "${KEY_ARN}", a key in eu-west-1, but the stack deploys to eu-central-1; a KMS key is used only in its own region, so the table, the CA secret and the output secrets could not use it and the deploy would fail; use the ARN of a key in the region you deploy to (of a multi-Region key, its replica there), or deploy to eu-west-1`,
    );
  });

  it('accepts a key of the stack region, without a warning', () => {
    Annotations.fromStack(deploymentStack(fileWith(KEY_ARN), 'eu-west-1')).hasNoWarning(
      '*',
      Match.stringLikeRegexp('kms_key_arn'),
    );
  });

  it('warns, in an environment-agnostic stack, of the region the key needs', () => {
    const stack = deploymentStack(fileWith(KEY_ARN));
    Annotations.fromStack(stack).hasWarning(
      '/Keys',
      Match.stringLikeRegexp(
        "^deploy/keys.yaml: kms_key_arn \\(line 2\\): the key is in eu-west-1; the stack's region is not known at synth \\(an environment-agnostic stack: the CDK CLI had no AWS credentials, or the stack no `env`\\), and if it is another one, the deploy fails, as a KMS key is used only in its own region; deploy to eu-west-1, or use the ARN of a key in the region you deploy to",
      ),
    );
    // Once, in the file's words: the bots, which check their kmsKey too, say nothing more of it.
    Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('kmsKey'));
    // Without a key there is nothing to tell.
    Annotations.fromStack(deploymentStack(fileWith())).hasNoWarning(
      '*',
      Match.stringLikeRegexp('kms_key_arn'),
    );
  });
});
