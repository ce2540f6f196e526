import { App, Aspects, type Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadDeployment, parseDeployment } from '../../lib/infra/deployment.js';
import { MachineIdStack, stackIdFor } from '../../lib/infra/machine-id-stack.js';
import { cdkContext, INLINE_CODE } from './support.js';

const CMK_DEPLOYMENT = `cluster_name: cmk.example
kms_key_arn: arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
bots:
  - name: ci
    roles: [access]
    readers: [arn:aws:iam::210987654321:role/elsewhere]
    outputs:
      - name: ssh
        type: identity
      - name: host
        type: ssh_host
        principals: [node1.example.com]
`;

/** The stack `bin/app.ts` builds, with the AWS Solutions rules applied as the app applies them. */
function nagChecked(deploymentStack: (app: App) => Stack): Stack {
  const app = new App({ context: cdkContext() });
  const stack = deploymentStack(app);
  Aspects.of(app).add(new AwsSolutionsChecks());
  return stack;
}

const example = nagChecked((app) => {
  const deployment = loadDeployment(new URL('../../deploy/example.yaml', import.meta.url).pathname);
  return new MachineIdStack(app, stackIdFor(deployment.cluster_name), {
    deployment,
    code: { auth: INLINE_CODE, bot: INLINE_CODE },
  });
});
const withKey = nagChecked((app) => {
  const deployment = parseDeployment(CMK_DEPLOYMENT, 'cmk.yaml');
  return new MachineIdStack(app, stackIdFor(deployment.cluster_name), {
    deployment,
    code: { auth: INLINE_CODE, bot: INLINE_CODE },
  });
});

let template: Template;
beforeAll(() => {
  template = Template.fromStack(example);
});

/** Every AWS Solutions finding left without a suppression, as `rule at path: message`. */
function unsuppressedFindings(stack: Stack): string[] {
  const annotations = Annotations.fromStack(stack);
  return [
    ...annotations.findError('*', Match.stringLikeRegexp('AwsSolutions-')),
    ...annotations.findWarning('*', Match.stringLikeRegexp('AwsSolutions-')),
  ].map((finding) => `${finding.id}: ${String(finding.entry.data)}`);
}

describe('MachineIdStack', () => {
  it('names the stack after the cluster', () => {
    expect(example.stackName).toBe('MachineId-example-test');
    expect(stackIdFor('a_b.c')).toBe('MachineId-a-b-c');
  });

  it('builds the auth, every bot and every output of the deployment file', () => {
    template.resourceCountIs('AWS::Scheduler::Schedule', 2);
    template.resourceCountIs('AWS::SecretsManager::Secret', 1 + 2);
    template.resourceCountIs('Custom::MachineIdResources', 1);
    template.hasResourceProperties('AWS::SecretsManager::Secret', {
      Name: 'machine-id/grafana-client/grafana',
    });
    template.hasResourceProperties('AWS::SecretsManager::Secret', { Name: 'machine-id/deployer/ssh' });
  });

  it('outputs the API URL, the admin ARN and each output secret', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Description?: string }>;
    expect(Object.keys(outputs).sort()).toEqual(
      [
        'AdminInvokeArn',
        'AuthServer',
        'BotGrafanaClientFunction',
        'BotGrafanaClientOutputGrafanaSecret',
        'BotDeployerFunction',
        'BotDeployerOutputSshSecret',
        'ClusterName',
      ].sort(),
    );
    expect(outputs['AuthServer']?.Description).toContain('midctl --auth-server <this> --aws-iam');
  });

  it('names bot outputs after the bots and outputs, so that reordering the file keeps them', () => {
    const bot = (name: string) =>
      `  - name: ${name}\n    roles: [access]\n    outputs: [{name: tls-id, type: identity}]\n`;
    const secretArnOutputs = (bots: string) => {
      const deployment = parseDeployment(`cluster_name: order.example\nbots:\n${bots}`, 'order.yaml');
      const app = new App({ context: cdkContext() });
      const stack = new MachineIdStack(app, 'Order', {
        deployment,
        code: { auth: INLINE_CODE, bot: INLINE_CODE },
      });
      const outputs = Template.fromStack(stack).toJSON().Outputs as Record<string, { Value: unknown }>;
      return Object.fromEntries(
        Object.entries(outputs)
          .filter(([id]) => id.startsWith('Bot'))
          .map(([id, output]) => [id, JSON.stringify(output.Value)]),
      );
    };
    const forward = secretArnOutputs(bot('ci-deploy') + bot('web.v2'));
    expect(Object.keys(forward).sort()).toEqual([
      'BotCiDeployFunction',
      'BotCiDeployOutputTlsIdSecret',
      'BotWebV2Function',
      'BotWebV2OutputTlsIdSecret',
    ]);
    expect(secretArnOutputs(bot('web.v2') + bot('ci-deploy'))).toEqual(forward);
  });

  it('refuses bots whose names make the same stack output name, naming both', () => {
    // A deployment file refuses this itself (deployment-names.test.ts); a Deployment built in code does not.
    const parsed = parseDeployment(
      `cluster_name: clash.example
bots:
  - name: ci-deploy
    roles: [access]
    outputs: [{name: ssh, type: identity}]
`,
      'clash.yaml',
    );
    const [bot] = parsed.bots;
    if (bot === undefined) return expect.unreachable('the file has a bot');
    const deployment = { ...parsed, bots: [bot, { ...bot, name: 'ci_deploy' }] };
    const app = new App({ context: cdkContext() });
    expect(
      () => new MachineIdStack(app, 'Clash', { deployment, code: { auth: INLINE_CODE, bot: INLINE_CODE } }),
    ).toThrow(
      'Clash: bot "ci-deploy" and bot "ci_deploy" would both be the stack output BotCiDeployFunction (output names keep only letters and digits); rename one of them',
    );
  });

  it('leaves no AWS Solutions finding unsuppressed', () => {
    expect(unsuppressedFindings(example)).toEqual([]);
  });

  it('leaves no AWS Solutions finding unsuppressed with a customer managed key and cross-account readers', () => {
    expect(unsuppressedFindings(withKey)).toEqual([]);
    Template.fromStack(withKey).hasResourceProperties('AWS::SecretsManager::ResourcePolicy', {
      ResourcePolicy: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'ReadersRead',
            Principal: { AWS: 'arn:aws:iam::210987654321:role/elsewhere' },
          }),
        ]),
      }),
    });
  });

  it('gives every suppression a written reason', () => {
    const suppressions = example.node.findAll().flatMap((construct) => {
      const metadata = (construct.node.defaultChild ?? construct) as {
        getMetadata?: (key: string) => unknown;
      };
      const nag = metadata.getMetadata?.('cdk_nag') as {
        rules_to_suppress?: Array<{ id: string; reason: string }>;
      };
      return nag?.rules_to_suppress ?? [];
    });
    expect(suppressions.length).toBeGreaterThan(0);
    for (const suppression of suppressions) {
      expect(suppression.reason.length, suppression.id).toBeGreaterThan(40);
    }
  });
});
