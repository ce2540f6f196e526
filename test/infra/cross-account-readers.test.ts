import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/core/errors.js';
import { parseDeployment } from '../../lib/infra/deployment.js';
import { MachineIdAuth } from '../../lib/infra/machine-id-auth.js';
import { MachineIdBot } from '../../lib/infra/machine-id-bot.js';
import { MachineIdStack } from '../../lib/infra/machine-id-stack.js';
import { cdkContext, INLINE_CODE, newStack, propsErrorOf } from './support.js';

/**
 * A secret under the AWS managed key cannot be decrypted from another account, so a reader there is let
 * in by the resource policy and still fails at every read. Readers from the deployment file (and the
 * construct's `readers`) are refused at synth as `grantRead` refuses such a grantee.
 */
const HOME = '111111111111';
const ELSEWHERE = '222222222222';
const KEY_ARN = `arn:aws:kms:eu-west-1:${HOME}:key/1234abcd-12ab-34cd-56ef-1234567890ab`;

function deploymentWith(readers: string[], kmsKeyArn?: string): string {
  return `cluster_name: readers.example
${kmsKeyArn === undefined ? '' : `kms_key_arn: ${kmsKeyArn}\n`}bots:
  - name: ci
    roles: [access]
    readers: [${readers.join(', ')}]
    outputs:
      - name: ssh
        type: identity
`;
}

/** The deployment's stack in `account`, or environment-agnostic (as `bin/app.ts` builds it) without one. */
function deploymentStack(text: string, account?: string): Stack {
  const app = new App({ context: cdkContext() });
  return new MachineIdStack(app, 'Readers', {
    deployment: parseDeployment(text, 'deploy/readers.yaml'),
    code: { auth: INLINE_CODE, bot: INLINE_CODE },
    ...(account === undefined ? {} : { env: { account, region: 'eu-west-1' } }),
  });
}

/** Runs `build`, expects the deployment file's refusal, and returns its message. */
function deploymentErrorOf(build: () => unknown): string {
  try {
    build();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('invalid_deployment');
    return (error as ConfigError).message;
  }
  return expect.unreachable('expected the deployment file to be refused');
}

describe('deployment-file readers without a customer managed key', () => {
  it('refuses a reader in another account than the stack, naming the reader, both accounts and the fix', () => {
    const reader = `arn:aws:iam::${ELSEWHERE}:role/dashboard-exporter`;
    expect(deploymentErrorOf(() => deploymentStack(deploymentWith([reader]), HOME))).toBe(
      `deploy/readers.yaml: bots[0].readers[0] (line 5): ${reader} is in account ${ELSEWHERE}, not the stack's ${HOME}, and a secret under the AWS managed key cannot be read from another account; set kms_key_arn to a customer managed key whose key policy grants account ${ELSEWHERE} kms:Decrypt, or remove the reader`,
    );
  });

  it('accepts a reader in the stack account', () => {
    const stack = deploymentStack(deploymentWith([`arn:aws:iam::${HOME}:role/dashboard-exporter`]), HOME);
    Template.fromStack(stack).resourceCountIs('AWS::SecretsManager::ResourcePolicy', 2);
  });

  it('refuses, in an environment-agnostic stack, readers in two accounts: one of them is foreign', () => {
    const here = `arn:aws:iam::${HOME}:role/here`;
    const there = `arn:aws:iam::${ELSEWHERE}:role/there`;
    expect(deploymentErrorOf(() => deploymentStack(deploymentWith([here, there])))).toContain(
      `deploy/readers.yaml: bots[0].readers[1] (line 5): ${there} (account ${ELSEWHERE}) and ${here} (account ${HOME}, deploy/readers.yaml: bots[0].readers[0] (line 5)) cannot both be in the stack's account`,
    );
  });

  it("accepts, in an environment-agnostic stack, readers of one account (the stack's is known only at deploy), with one warning at the file's line", () => {
    const stack = deploymentStack(
      deploymentWith([`arn:aws:iam::${ELSEWHERE}:role/a`, `arn:aws:iam::${ELSEWHERE}:role/b`]).replace(
        '        type: identity\n',
        '        type: identity\n      - name: ssh2\n        type: identity\n',
      ),
    );
    const annotations = Annotations.fromStack(stack);
    annotations.hasWarning(
      '/Readers',
      Match.stringLikeRegexp(
        `^deploy/readers.yaml: bots\\[0\\].readers\\[0\\] \\(line 5\\): arn:aws:iam::${ELSEWHERE}:role/a is in account ${ELSEWHERE}; the stack's account is not known at synth \\(an environment-agnostic stack: the CDK CLI had no AWS credentials, or the stack no \`env\`\\), and if it is another one, a secret under the AWS managed key cannot be read from another account; set kms_key_arn`,
      ),
    );
    // Once for the file, not again for each output of the bot.
    expect(
      annotations.findWarning('*', Match.stringLikeRegexp('account is not known at synth')),
    ).toHaveLength(1);
  });

  it('gives no such warning when the stack account is known, or with a customer managed key', () => {
    const reader = `arn:aws:iam::${HOME}:role/a`;
    for (const stack of [
      deploymentStack(deploymentWith([reader]), HOME),
      deploymentStack(deploymentWith([reader], KEY_ARN)),
    ]) {
      Annotations.fromStack(stack).hasNoWarning('*', Match.stringLikeRegexp('account is not known at synth'));
    }
  });
});

describe('deployment-file readers with a customer managed key', () => {
  it('accepts a reader in another account', () => {
    const reader = `arn:aws:iam::${ELSEWHERE}:role/dashboard-exporter`;
    expect(() => deploymentStack(deploymentWith([reader], KEY_ARN), HOME)).not.toThrow();
  });
});

describe('grantRead across accounts', () => {
  function botIn(stack: Stack): MachineIdBot {
    return new MachineIdBot(stack, 'Bot', {
      auth: new MachineIdAuth(stack, 'Auth', { code: INLINE_CODE }),
      botName: 'ci',
      roles: ['access'],
      outputs: [{ name: 'ssh', type: 'identity' }],
      code: INLINE_CODE,
    });
  }

  it('still refuses a grantee in another account when the secret is under the AWS managed key', () => {
    const stack = new Stack(new App({ context: cdkContext() }), 'Home', {
      env: { account: HOME, region: 'eu-west-1' },
    });
    const bot = botIn(stack);
    const foreign = iam.Role.fromRoleArn(stack, 'Foreign', `arn:aws:iam::${ELSEWHERE}:role/reader`);
    expect(propsErrorOf(() => bot.output('ssh').grantRead(foreign))).toContain(
      `Home/Bot/Output-ssh: grantRead: ${foreign.toString()} is in account ${ELSEWHERE}, not the stack's ${HOME}`,
    );
  });

  it('lets a role of the same environment-agnostic stack read', () => {
    const stack = newStack();
    const bot = botIn(stack);
    const reader = new iam.Role(stack, 'Reader', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    });
    expect(() => bot.output('ssh').grantRead(reader)).not.toThrow();
  });
});
