import { App, CliCredentialsStackSynthesizer, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { describeOutputTarget } from '../../lib/bot/agent/output-destinations.js';
import type { OutputConfig } from '../../lib/bot/config/bot-config.js';
import { loadBotConfig } from '../../lib/bot/config/load-bot-config.js';
import { loadBotConfigLazily } from '../../lib/bot/config/load-bot-config-lazily.js';
import { MachineIdAuth } from '../../lib/infra/machine-id-auth.js';
import { MachineIdBot } from '../../lib/infra/machine-id-bot.js';
import { type MachineIdBotOutputProps, outputTarget } from '../../lib/infra/machine-id-bot-output.js';
import { UNINITIALISED_SECRET_VALUE } from '../../lib/infra/uninitialised-secret-value.js';
import { parseResources } from '../../lib/resources/parse-resources.js';
import {
  cdkContext,
  getAtt,
  INLINE_CODE,
  logicalIdOf,
  newStack,
  propsErrorOf,
  ref,
  resolveJoin,
  sortedByJson,
} from './support.js';

const READER_ARN = 'arn:aws:iam::123456789012:role/dashboard-exporter';
const BOOTSTRAP_EXECUTION_ROLE =
  // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub placeholders for CloudFormation, not a template
  'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/cdk-hnb659fds-cfn-exec-role-${AWS::AccountId}-${AWS::Region}';

// One stack for the whole file: two bots on one auth, and two consumers granted different reads.
const stack = newStack();
const auth = new MachineIdAuth(stack, 'Auth', { clusterName: 'test.example', code: INLINE_CODE });
const ci = new MachineIdBot(stack, 'Ci', {
  auth,
  botName: 'ci',
  roles: ['access', 'grafana-reader'],
  outputs: [
    { name: 'ssh', type: 'identity' },
    { name: 'grafana', type: 'application', appName: 'grafana', roles: ['grafana-reader'] },
  ],
  readers: [new iam.ArnPrincipal(READER_ARN)],
  code: INLINE_CODE,
});
const other = new MachineIdBot(stack, 'Other', {
  auth,
  botName: 'other',
  roles: ['access'],
  outputs: [{ name: 'kube', type: 'kubernetes', kubernetesCluster: 'prod' }],
  renewalInterval: Duration.minutes(10),
  flexibleTimeWindow: Duration.minutes(0),
  code: INLINE_CODE,
});
const oneOutputReader = new iam.Role(stack, 'OneOutputReader', {
  assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
});
const allOutputsReader = new iam.Role(stack, 'AllOutputsReader', {
  assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
});
const oneGrant = ci.output('grafana').grantRead(oneOutputReader);
const allGrant = ci.grantRead(allOutputsReader);

let template: Template;
const id = {
  ciFunction: '',
  ciRole: '',
  ciSsh: '',
  ciGrafana: '',
  ciQueue: '',
  otherFunction: '',
  otherRole: '',
  otherKube: '',
  resources: '',
};

beforeAll(() => {
  template = Template.fromStack(stack);
  id.ciFunction = logicalIdOf(stack, 'Ci/Function');
  id.ciRole = logicalIdOf(stack, 'Ci/FunctionRole');
  id.ciSsh = logicalIdOf(stack, 'Ci/Output-ssh/Secret');
  id.ciGrafana = logicalIdOf(stack, 'Ci/Output-grafana/Secret');
  id.ciQueue = logicalIdOf(stack, 'Ci/DeadLetterQueue');
  id.otherFunction = logicalIdOf(stack, 'Other/Function');
  id.otherRole = logicalIdOf(stack, 'Other/FunctionRole');
  id.otherKube = logicalIdOf(stack, 'Other/Output-kube/Secret');
  id.resources = logicalIdOf(stack, 'Auth/Resources');
});

/** The statements of the inline policies attached to the role with logical id `roleId`. */
function statementsOf(roleId: string): Array<Record<string, unknown>> {
  const policies = template.findResources('AWS::IAM::Policy', {
    Properties: { Roles: Match.arrayWith([ref(roleId)]) },
  });
  return Object.values(policies).flatMap(
    (policy) =>
      (policy as { Properties: { PolicyDocument: { Statement: Array<Record<string, unknown>> } } }).Properties
        .PolicyDocument.Statement,
  );
}

const actionsOf = (statement: Record<string, unknown>) => [statement['Action']].flat() as string[];
const resourcesOf = (statement: Record<string, unknown>) => [statement['Resource']].flat();

describe('MachineIdBot schedule', () => {
  it('runs the bot every renewal interval within a flexible window', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(20 minutes)',
      FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 5 },
      State: 'ENABLED',
      Target: Match.objectLike({ Arn: getAtt(id.ciFunction) }),
    });
  });

  it('uses the renewal interval it is given, and no window when the window is zero', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(10 minutes)',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: Match.objectLike({ Arn: getAtt(id.otherFunction) }),
    });
  });

  it('retries an undeliverable invocation, then sends it to the dead-letter queue', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      Target: Match.objectLike({
        Arn: getAtt(id.ciFunction),
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 1200 },
        DeadLetterConfig: { Arn: getAtt(id.ciQueue) },
      }),
    });
  });

  it('sends runs that failed after their retries to the same encrypted dead-letter queue', () => {
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: ref(id.ciFunction),
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 1200,
      DestinationConfig: { OnFailure: { Destination: getAtt(id.ciQueue) } },
    });
    template.hasResource('AWS::SQS::Queue', {
      Properties: Match.objectLike({ SqsManagedSseEnabled: true }),
    });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [ref(id.ciQueue)],
      PolicyDocument: Match.objectLike({
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      }),
    });
  });

  it('starts only after the join token its first run needs has been applied', () => {
    const schedules = template.findResources('AWS::Scheduler::Schedule');
    for (const schedule of Object.values(schedules)) {
      expect((schedule as { DependsOn?: string[] }).DependsOn).toContain(id.resources);
    }
  });
});

describe('MachineIdBot function', () => {
  it('never runs two instances of a bot at once', () => {
    for (const fn of [id.ciFunction, id.otherFunction]) {
      expect(template.toJSON().Resources[fn].Properties.ReservedConcurrentExecutions).toBe(1);
    }
  });

  it('runs on Node.js 22 or newer on ARM64', () => {
    for (const fn of [id.ciFunction, id.otherFunction]) {
      const properties = template.toJSON().Resources[fn].Properties;
      expect(Number(/^nodejs(\d+)\.x$/.exec(properties.Runtime)?.[1])).toBeGreaterThanOrEqual(22);
      expect(properties.Architectures).toEqual(['arm64']);
    }
  });

  it("gives the agent a v2 config that joins with the bot's IAM token and writes each output to its secret", () => {
    const environment = template.toJSON().Resources[id.ciFunction].Properties.Environment.Variables;
    const text = resolveJoin(environment.MID_BOT_CONFIG, (token) => {
      if (JSON.stringify(token).includes('ApiEndpoint'))
        return 'https://abc123.execute-api.eu-west-1.amazonaws.com';
      const secret = (token as { Ref: string }).Ref;
      return `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${secret}-AbCdEf`;
    });
    expect(parse(text)).toEqual({
      version: 'v2',
      auth_server: 'https://abc123.execute-api.eu-west-1.amazonaws.com',
      onboarding: { join_method: 'iam', token: 'ci-iam', public_tls: true },
      storage: { type: 'memory' },
      oneshot: true,
      certificate_ttl: '1h',
      renewal_interval: '20m',
      outputs: [
        {
          type: 'identity',
          destination: {
            type: 'aws_secrets_manager',
            name: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${id.ciSsh}-AbCdEf`,
          },
        },
        {
          type: 'application',
          app_name: 'grafana',
          roles: ['grafana-reader'],
          destination: {
            type: 'aws_secrets_manager',
            name: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${id.ciGrafana}-AbCdEf`,
          },
        },
      ],
    });
  });

  it('writes the config as JSON, which reads as the same YAML document', () => {
    const environment = template.toJSON().Resources[id.ciFunction].Properties.Environment.Variables;
    const text = resolveJoin(environment.MID_BOT_CONFIG, () => 'arn:aws:secretsmanager:eu-west-1:1:secret:x');
    expect(text.trimStart().startsWith('{')).toBe(true);
    expect(JSON.parse(text)).toEqual(parse(text));
  });

  it("renders a config the bot Lambda loads as it is, with the agent's own loader", async () => {
    const environment = template.toJSON().Resources[id.otherFunction].Properties.Environment.Variables;
    const text = resolveJoin(environment.MID_BOT_CONFIG, (token) =>
      JSON.stringify(token).includes('ApiEndpoint')
        ? 'https://abc123.execute-api.eu-west-1.amazonaws.com'
        : 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:machine-id/other/kube-AbCdEf',
    );
    const { config } = loadBotConfig(text, 'MID_BOT_CONFIG');
    // The Lambda's loader reads the JSON without the YAML parser, to the same config.
    expect(await loadBotConfigLazily(text, 'MID_BOT_CONFIG')).toEqual({ config, warnings: [] });
    expect(config).toMatchObject({
      auth_server: 'https://abc123.execute-api.eu-west-1.amazonaws.com',
      onboarding: { join_method: 'iam', token: 'other-iam', public_tls: true, ca_pins: [] },
      storage: { type: 'memory' },
      oneshot: true,
      certificate_ttl: 3_600_000,
      renewal_interval: 600_000,
      outputs: [
        {
          type: 'kubernetes',
          kubernetes_cluster: 'prod',
          destination: {
            type: 'aws_secrets_manager',
            name: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:machine-id/other/kube-AbCdEf',
          },
        },
      ],
    });
  });
});

describe('MachineIdBot permissions', () => {
  it('lets the bot role write its own output secrets and no others', () => {
    const writes = statementsOf(id.ciRole).filter((s) =>
      actionsOf(s).includes('secretsmanager:PutSecretValue'),
    );
    expect(writes).toHaveLength(1);
    expect(sortedByJson(resourcesOf(writes[0] as Record<string, unknown>))).toEqual(
      sortedByJson([ref(id.ciSsh), ref(id.ciGrafana)]),
    );
    const otherWrites = statementsOf(id.otherRole).filter((s) =>
      actionsOf(s).includes('secretsmanager:PutSecretValue'),
    );
    expect(otherWrites.flatMap(resourcesOf)).toEqual([ref(id.otherKube)]);
  });

  it('gives the bot role nothing beyond its secrets, its log group and its dead-letter queue', () => {
    const actions = new Set(statementsOf(id.ciRole).flatMap(actionsOf));
    expect([...actions].sort()).toEqual([
      'logs:CreateLogStream',
      'logs:PutLogEvents',
      'secretsmanager:PutSecretValue',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:SendMessage',
    ]);
    const secretResources = statementsOf(id.ciRole)
      .filter((s) => actionsOf(s).some((action) => action.startsWith('secretsmanager:')))
      .flatMap(resourcesOf);
    expect(secretResources).not.toContainEqual(ref(id.otherKube));
  });

  it('trusts only Lambda to assume the bot role, and attaches no managed policy', () => {
    const role = template.toJSON().Resources[id.ciRole].Properties;
    expect(role.AssumeRolePolicyDocument).toEqual({
      Statement: [
        { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' } },
      ],
      Version: '2012-10-17',
    });
    expect(role.ManagedPolicyArns).toBeUndefined();
  });

  it("grants one output's readers exactly GetSecretValue and DescribeSecret on that output", () => {
    const statements = statementsOf(logicalIdOf(stack, 'OneOutputReader'));
    expect(statements).toEqual([
      {
        Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
        Effect: 'Allow',
        Resource: ref(id.ciGrafana),
      },
    ]);
    expect(oneGrant.success).toBe(true);
  });

  it("grants a bot's readers exactly GetSecretValue and DescribeSecret on each of its outputs", () => {
    const statements = statementsOf(logicalIdOf(stack, 'AllOutputsReader'));
    expect(statements.flatMap(actionsOf).every((action) => action.startsWith('secretsmanager:'))).toBe(true);
    expect(new Set(statements.flatMap(actionsOf))).toEqual(
      new Set(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']),
    );
    expect(sortedByJson(statements.flatMap(resourcesOf))).toEqual(
      sortedByJson([ref(id.ciGrafana), ref(id.ciSsh)]),
    );
    expect(allGrant.success).toBe(true);
  });

  it('names an unknown output and lists the real ones', () => {
    expect(propsErrorOf(() => ci.output('grafna'))).toMatch(
      /no output "grafna"; its outputs are "ssh", "grafana"/,
    );
  });
});

describe('MachineIdBot output secrets', () => {
  it('creates one secret per output, named after the bot and the output, holding the placeholder', () => {
    for (const [logicalId, name] of [
      [id.ciSsh, 'machine-id/ci/ssh'],
      [id.ciGrafana, 'machine-id/ci/grafana'],
      [id.otherKube, 'machine-id/other/kube'],
    ] as const) {
      const secret = template.toJSON().Resources[logicalId];
      expect(secret.Properties.Name).toBe(name);
      expect(secret.Properties.SecretString).toBe(UNINITIALISED_SECRET_VALUE);
      expect(secret.Properties.GenerateSecretString).toBeUndefined();
      expect(secret.DeletionPolicy).toBe('Delete');
    }
  });

  it('lets the bot write, the readers read, and denies PutSecretValue to everyone but the bot', () => {
    template.hasResourceProperties('AWS::SecretsManager::ResourcePolicy', {
      SecretId: ref(id.ciGrafana),
      ResourcePolicy: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'TheBotWrites',
            Effect: 'Allow',
            Principal: { AWS: getAtt(id.ciRole) },
            // The bot only ever puts: no reads of what it wrote, no DescribeSecret or CreateSecret.
            Action: 'secretsmanager:PutSecretValue',
            Resource: '*',
          },
          {
            Sid: 'ReadersRead',
            Effect: 'Allow',
            Principal: { AWS: READER_ARN },
            Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
            Resource: '*',
          },
          {
            Sid: 'OnlyTheBotWrites',
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 'secretsmanager:PutSecretValue',
            Resource: '*',
            Condition: { ArnNotEquals: { 'aws:PrincipalArn': getAtt(id.ciRole) } },
          },
          Match.objectLike({ Sid: 'OnlyDeploysUpdateTheSecret', Effect: 'Deny' }),
        ],
      },
    });
  });

  it("denies replacing or rolling back the value outside PutSecretValue to everyone but the stack's deploys", () => {
    // UpdateSecret with a SecretString writes a new AWSCURRENT version, and UpdateSecretVersionStage
    // moves AWSCURRENT to an older one (expired certificates, or the placeholder): either would go
    // around the PutSecretValue deny and hand every consumer certificates and CAs of the caller's
    // choosing. CloudFormation's execution role still updates the description and KMS key.
    for (const secret of [id.ciSsh, id.ciGrafana, id.otherKube]) {
      template.hasResourceProperties('AWS::SecretsManager::ResourcePolicy', {
        SecretId: ref(secret),
        ResourcePolicy: Match.objectLike({
          Statement: Match.arrayWith([
            {
              Sid: 'OnlyDeploysUpdateTheSecret',
              Effect: 'Deny',
              Principal: { AWS: '*' },
              Action: ['secretsmanager:UpdateSecret', 'secretsmanager:UpdateSecretVersionStage'],
              Resource: '*',
              Condition: {
                ArnNotEquals: { 'aws:PrincipalArn': [{ 'Fn::Sub': BOOTSTRAP_EXECUTION_ROLE }] },
              },
            },
          ]),
        }),
      });
    }
  });

  it("denies replacing the value to everyone when the stack deploys with the caller's credentials", () => {
    const cli = new Stack(new App({ context: cdkContext() }), 'CliDeployer', {
      synthesizer: new CliCredentialsStackSynthesizer(),
    });
    new MachineIdBot(cli, 'Bot', {
      auth: new MachineIdAuth(cli, 'Auth', { code: INLINE_CODE }),
      botName: 'ci',
      roles: ['access'],
      outputs: [{ name: 'ssh', type: 'identity' }],
      code: INLINE_CODE,
    });
    Template.fromStack(cli).hasResourceProperties('AWS::SecretsManager::ResourcePolicy', {
      SecretId: ref(logicalIdOf(cli, 'Bot/Output-ssh/Secret')),
      ResourcePolicy: Match.objectLike({
        Statement: Match.arrayWith([
          {
            Sid: 'OnlyDeploysUpdateTheSecret',
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: ['secretsmanager:UpdateSecret', 'secretsmanager:UpdateSecretVersionStage'],
            Resource: '*',
          },
        ]),
      }),
    });
  });

  it('puts no readers statement in the policy of a bot that has no readers', () => {
    template.hasResourceProperties('AWS::SecretsManager::ResourcePolicy', {
      SecretId: ref(id.otherKube),
      ResourcePolicy: Match.objectLike({
        Statement: [
          Match.objectLike({ Sid: 'TheBotWrites' }),
          Match.objectLike({ Sid: 'OnlyTheBotWrites', Effect: 'Deny' }),
          Match.objectLike({ Sid: 'OnlyDeploysUpdateTheSecret', Effect: 'Deny' }),
        ],
      }),
    });
  });
});

describe('MachineIdBot join token', () => {
  it("registers the bot and an iam token that allows only the bot role's sessions", () => {
    const property = template.toJSON().Resources[id.resources].Properties.Resources;
    const roleNames: Record<string, string> = {
      [id.ciRole]: 'Test-CiFunctionRole-1A2B3C',
      [id.otherRole]: 'Test-OtherRole-9Z',
    };
    const text = resolveJoin(property, (token) => {
      const name = (token as { Ref: string }).Ref;
      if (name === 'AWS::AccountId') return '123456789012';
      if (name === 'AWS::Partition') return 'aws';
      const role = roleNames[name];
      if (role === undefined) throw new Error(`unexpected token ${JSON.stringify(token)}`);
      return role;
    });
    // Read back with the service's own resource parser, as the custom resource will.
    const resources = parseResources(text, 'custom resource');
    const byName = (kind: string, name: string) =>
      resources.find((resource) => resource.kind === kind && resource.metadata.name === name);
    expect(byName('bot', 'ci')).toMatchObject({ spec: { roles: ['access', 'grafana-reader'] } });
    expect(byName('token', 'ci-iam')).toMatchObject({
      spec: {
        join_method: 'iam',
        bot_name: 'ci',
        allow: [
          {
            aws_account: '123456789012',
            aws_arn: 'arn:aws:sts::123456789012:assumed-role/Test-CiFunctionRole-1A2B3C/*',
          },
        ],
      },
    });
    expect(byName('token', 'other-iam')).toMatchObject({
      spec: {
        bot_name: 'other',
        allow: [{ aws_arn: 'arn:aws:sts::123456789012:assumed-role/Test-OtherRole-9Z/*' }],
      },
    });
    expect(auth.botNames).toEqual(['ci', 'other']);
  });
});

describe('MachineIdBot alarms', () => {
  it('alarms on any failed run', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: ref(id.ciFunction) }],
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('alarms when the dead-letter queue holds a message', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: getAtt(id.ciQueue, 'QueueName') }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('alarms when an output has less than the renewal interval plus ten minutes to live', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'MachineId',
      MetricName: 'SecondsUntilExpiry',
      // The function's name too: bots of one name in two clusters of an account never share a metric.
      Dimensions: [
        { Name: 'Bot', Value: 'ci' },
        { Name: 'Destination', Value: { 'Fn::Join': ['', ['aws_secrets_manager ', ref(id.ciGrafana)]] } },
        { Name: 'Function', Value: ref(id.ciFunction) },
        { Name: 'Output', Value: 'app "grafana"' },
      ],
      Statistic: 'Minimum',
      Threshold: 30 * 60,
      ComparisonOperator: 'LessThanThreshold',
      // Missing reports mean nothing fresh was written: by 6 × 5 min after the last write, the
      // certificates (1 h) have less than 30 min left.
      TreatMissingData: 'breaching',
      Period: 300,
      EvaluationPeriods: 6,
      DatapointsToAlarm: 6,
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'SecondsUntilExpiry',
      Dimensions: [
        { Name: 'Bot', Value: 'other' },
        { Name: 'Destination', Value: { 'Fn::Join': ['', ['aws_secrets_manager ', ref(id.otherKube)]] } },
        { Name: 'Function', Value: ref(id.otherFunction) },
        { Name: 'Output', Value: 'Kubernetes cluster "prod"' },
      ],
      Threshold: 20 * 60,
      EvaluationPeriods: 8,
    });
    expect(ci.alarms).toHaveLength(2 + 2);
    expect(other.alarms).toHaveLength(2 + 1);
  });

  it("names each output's metric as the bot Lambda does", () => {
    const memory = { type: 'memory' } as const;
    const cases: Array<[MachineIdBotOutputProps, OutputConfig]> = [
      [
        { name: 'a', type: 'identity' },
        { type: 'identity', destination: memory },
      ],
      [
        { name: 'b', type: 'application', appName: 'grafana' },
        { type: 'application', app_name: 'grafana', specific_tls_naming: false, destination: memory },
      ],
      [
        { name: 'c', type: 'kubernetes', kubernetesCluster: 'prod' },
        { type: 'kubernetes', kubernetes_cluster: 'prod', destination: memory },
      ],
      [
        { name: 'd', type: 'ssh_host', principals: ['a.example', 'b.example'] },
        { type: 'ssh_host', principals: ['a.example', 'b.example'], destination: memory },
      ],
    ];
    for (const [props, config] of cases) expect(outputTarget(props)).toBe(describeOutputTarget(config));
  });
});
