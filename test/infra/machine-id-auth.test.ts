import {
  App,
  CliCredentialsStackSynthesizer,
  DefaultStackSynthesizer,
  RemovalPolicy,
  Stack,
} from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import { MachineIdAuth } from '../../lib/infra/machine-id-auth.js';
import { UNINITIALISED_SECRET_VALUE } from '../../lib/infra/uninitialised-secret-value.js';
import { cdkContext, getAtt, INLINE_CODE, logicalIdOf, newStack, propsErrorOf, ref } from './support.js';

const ROLES = `kind: role
version: v7
metadata:
  name: access
spec:
  allow:
    logins: [root]
`;

const stack = newStack();
const auth = new MachineIdAuth(stack, 'Auth', {
  clusterName: 'test.example',
  signatureSuite: 'legacy',
  logLevel: 'debug',
  resources: ROLES,
  code: INLINE_CODE,
});
const operator = new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() });
auth.grantAdmin(operator);

let template: Template;
let resources: Record<string, { Type: string; Properties: Record<string, unknown>; DeletionPolicy?: string }>;
const id = { fn: '', role: '', table: '', secret: '', api: '', resources: '' };

beforeAll(() => {
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources;
  id.fn = logicalIdOf(stack, 'Auth/Function');
  id.role = logicalIdOf(stack, 'Auth/FunctionRole');
  id.table = logicalIdOf(stack, 'Auth/Table');
  id.secret = logicalIdOf(stack, 'Auth/CaSecret');
  id.api = logicalIdOf(stack, 'Auth/Api');
  id.resources = logicalIdOf(stack, 'Auth/Resources');
});

/** The role the CDK bootstrap (default qualifier) creates for CloudFormation to deploy with. */
const BOOTSTRAP_EXECUTION_ROLE =
  // biome-ignore lint/suspicious/noTemplateCurlyInString: Fn::Sub placeholders for CloudFormation, not a template
  'arn:${AWS::Partition}:iam::${AWS::AccountId}:role/cdk-hnb659fds-cfn-exec-role-${AWS::AccountId}-${AWS::Region}';

interface ResourcePolicyStatement {
  readonly Sid?: string;
  readonly Action?: unknown;
  readonly Condition?: { readonly ArnNotEquals?: Record<string, unknown> };
}

/** The statements of the CA secret's resource policy in `of`. */
function caSecretStatements(of: Stack): ResourcePolicyStatement[] {
  const [policy] = Object.values(Template.fromStack(of).findResources('AWS::SecretsManager::ResourcePolicy'));
  return (policy as { Properties: { ResourcePolicy: { Statement: ResourcePolicyStatement[] } } }).Properties
    .ResourcePolicy.Statement;
}

function toArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

/** Who is exempt from each deny statement of the CA secret's resource policy in `of`. */
function caSecretDenies(of: Stack): { readOrPut: unknown[]; update: unknown[] } {
  const statements = caSecretStatements(of);
  const exempt = (sid: string) =>
    [
      statements.find((statement) => statement.Sid === sid)?.Condition?.ArnNotEquals?.['aws:PrincipalArn'],
    ].flat();
  return {
    readOrPut: exempt('OnlyTheAuthServiceUsesTheCaKeys'),
    update: exempt('OnlyTheAuthServiceAndDeploysUpdateTheCaSecret'),
  };
}

function statementsOf(roleId: string): Array<Record<string, unknown>> {
  return Object.values(
    template.findResources('AWS::IAM::Policy', { Properties: { Roles: [ref(roleId)] } }),
  ).flatMap(
    (policy) =>
      (policy as { Properties: { PolicyDocument: { Statement: Array<Record<string, unknown>> } } }).Properties
        .PolicyDocument.Statement,
  );
}

describe('MachineIdAuth state', () => {
  it('keeps state in an on-demand table with point-in-time recovery and a ttl attribute', () => {
    const table = resources[id.table];
    expect(table?.Properties).toMatchObject({
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: 'pk', AttributeType: 'S' },
        { AttributeName: 'sk', AttributeType: 'S' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
    });
    expect(table?.DeletionPolicy).toBe('Retain');
  });

  it('turns on deletion protection for the retained table, so that no one deletes it by hand either', () => {
    // The table holds the bots, their join tokens and locks, and the audit log: a DeleteTable call
    // (a script, a console click, someone covering their tracks) takes every join down with it.
    expect(resources[id.table]?.Properties['DeletionProtectionEnabled']).toBe(true);
  });

  it('creates the CA secret with the placeholder the CA store initialises, and retains it', () => {
    const secret = resources[id.secret];
    expect(secret?.Properties['SecretString']).toBe(UNINITIALISED_SECRET_VALUE);
    expect(secret?.Properties['GenerateSecretString']).toBeUndefined();
    expect(secret?.Properties['KmsKeyId']).toBeUndefined();
    expect(secret?.DeletionPolicy).toBe('Retain');
  });

  it("keeps the CA secret's resource policy with the secret", () => {
    // Left to CDK, the policy is deleted with the stack while the secret is kept: the kept CA keys
    // would then be readable by anyone whose own policies allow GetSecretValue.
    const policy = template.findResources('AWS::SecretsManager::ResourcePolicy', {
      Properties: { SecretId: ref(id.secret) },
    });
    expect(Object.values(policy)).toMatchObject([
      { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' },
    ]);
  });

  it('denies reading or putting the CA keys to every principal but the auth role, and replacing them to all but it and the deploys', () => {
    template.hasResourceProperties('AWS::SecretsManager::ResourcePolicy', {
      SecretId: ref(id.secret),
      ResourcePolicy: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'OnlyTheAuthServiceUsesTheCaKeys',
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'],
            Resource: '*',
            Condition: { ArnNotEquals: { 'aws:PrincipalArn': getAtt(id.role) } },
          },
          {
            Sid: 'OnlyTheAuthServiceAndDeploysUpdateTheCaSecret',
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: ['secretsmanager:UpdateSecret', 'secretsmanager:UpdateSecretVersionStage'],
            Resource: '*',
            Condition: {
              ArnNotEquals: {
                'aws:PrincipalArn': [getAtt(id.role), { 'Fn::Sub': BOOTSTRAP_EXECUTION_ROLE }],
              },
            },
          },
          {
            Sid: 'NoOneDeletesTheKeptCaSecret',
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: 'secretsmanager:DeleteSecret',
            Resource: '*',
          },
        ],
      },
    });
  });

  it('denies deleting the retained CA secret to everyone, as the table is kept from deletion', () => {
    // Deleted (with ForceDeleteWithoutRecovery, for good), every cold start stops and everything that
    // trusts the cluster trusts CAs no one can sign with any more.
    const statements = caSecretStatements(stack);
    expect(
      statements.filter((statement) => toArray(statement.Action).includes('secretsmanager:DeleteSecret')),
    ).toEqual([
      {
        Sid: 'NoOneDeletesTheKeptCaSecret',
        Effect: 'Deny',
        Principal: { AWS: '*' },
        Action: 'secretsmanager:DeleteSecret',
        Resource: '*',
      },
    ]);
  });

  it("exempts the execution role the stack's DefaultStackSynthesizer names from the update deny, and nothing else", () => {
    const deployer = 'arn:aws:iam::111111111111:role/cfn-deployer';
    const custom = new Stack(new App({ context: cdkContext() }), 'CustomDeployer', {
      synthesizer: new DefaultStackSynthesizer({ cloudFormationExecutionRole: deployer }),
    });
    new MachineIdAuth(custom, 'Auth', { code: INLINE_CODE });
    expect(caSecretDenies(custom)).toEqual({
      readOrPut: [getAtt(logicalIdOf(custom, 'Auth/FunctionRole'))],
      update: [getAtt(logicalIdOf(custom, 'Auth/FunctionRole')), { 'Fn::Sub': deployer }],
    });
  });

  it("exempts only the auth role when the stack deploys with the caller's credentials", () => {
    const cli = new Stack(new App({ context: cdkContext() }), 'CliDeployer', {
      synthesizer: new CliCredentialsStackSynthesizer(),
    });
    new MachineIdAuth(cli, 'Auth', { code: INLINE_CODE });
    const authRole = getAtt(logicalIdOf(cli, 'Auth/FunctionRole'));
    expect(caSecretDenies(cli)).toEqual({ readOrPut: [authRole], update: [authRole] });
  });

  it('removes table and secret with the stack when asked to', () => {
    const other = newStack('Disposable');
    new MachineIdAuth(other, 'Auth', { removalPolicy: RemovalPolicy.DESTROY, code: INLINE_CODE });
    const disposable = Template.fromStack(other);
    disposable.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
    // Deletion protection would make the stack's deletion fail on the table it was asked to delete.
    disposable.hasResourceProperties('AWS::DynamoDB::Table', {
      DeletionProtectionEnabled: false,
    });
    disposable.hasResource('AWS::SecretsManager::Secret', { DeletionPolicy: 'Delete' });
    disposable.hasResource('AWS::SecretsManager::ResourcePolicy', { DeletionPolicy: 'Delete' });
    // Nor may a deny of DeleteSecret: the stack's deletion deletes the secret.
    expect(
      caSecretStatements(other).filter((statement) =>
        toArray(statement.Action).includes('secretsmanager:DeleteSecret'),
      ),
    ).toEqual([]);
    // The cluster name defaults to the stack name.
    disposable.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ MID_CLUSTER_NAME: 'Disposable', MID_SIGNATURE_SUITE: 'balanced' }),
      },
    });
  });
});

describe('MachineIdAuth function', () => {
  it('runs on Node.js 22 or newer on ARM64 with the service configuration', () => {
    const properties = resources[id.fn]?.Properties as Record<string, unknown>;
    expect(Number(/^nodejs(\d+)\.x$/.exec(String(properties['Runtime']))?.[1])).toBeGreaterThanOrEqual(22);
    expect(properties['Architectures']).toEqual(['arm64']);
    expect(properties['Environment']).toEqual({
      Variables: {
        MID_CLUSTER_NAME: 'test.example',
        MID_SIGNATURE_SUITE: 'legacy',
        MID_TABLE_NAME: ref(id.table),
        MID_CA_SECRET_ID: ref(id.secret),
        MID_LOG_LEVEL: 'debug',
      },
    });
  });

  it('lets the auth role read and conditionally write the table, and use its CA secret, and nothing else', () => {
    const statements = statementsOf(id.role);
    expect(statements).toEqual([
      {
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Effect: 'Allow',
        Resource: getAtt(logicalIdOf(stack, 'Auth/FunctionLogs')),
      },
      {
        Sid: 'AuthTable',
        Action: [
          'dynamodb:BatchGetItem',
          'dynamodb:BatchWriteItem',
          'dynamodb:DeleteItem',
          'dynamodb:GetItem',
          'dynamodb:PutItem',
          'dynamodb:Query',
        ],
        Effect: 'Allow',
        Resource: getAtt(id.table),
      },
      {
        Sid: 'CaSecret',
        Action: [
          'secretsmanager:GetSecretValue',
          'secretsmanager:ListSecretVersionIds',
          'secretsmanager:PutSecretValue',
        ],
        Effect: 'Allow',
        Resource: ref(id.secret),
      },
    ]);
    expect(resources[id.role]?.Properties['ManagedPolicyArns']).toBeUndefined();
  });
});

describe('MachineIdAuth API', () => {
  function route(routeKey: string): Record<string, unknown> {
    const found = Object.values(resources).filter(
      (resource) =>
        resource.Type === 'AWS::ApiGatewayV2::Route' && resource.Properties['RouteKey'] === routeKey,
    );
    expect(found, routeKey).toHaveLength(1);
    return (found[0] as { Properties: Record<string, unknown> }).Properties;
  }

  it('authorises the admin routes with AWS IAM', () => {
    expect(route('ANY /v1/admin/{proxy+}')['AuthorizationType']).toBe('AWS_IAM');
  });

  it('leaves ping, join and bot routes to the service, which authenticates them itself', () => {
    for (const key of ['GET /v1/ping', 'POST /v1/join/challenge', 'POST /v1/join', 'POST /v1/bot/{proxy+}']) {
      expect(['NONE', undefined], key).toContain(route(key)['AuthorizationType']);
    }
  });

  it('has no other routes, so nothing else reaches the Lambda', () => {
    const keys = Object.values(resources)
      .filter((resource) => resource.Type === 'AWS::ApiGatewayV2::Route')
      .map((resource) => resource.Properties['RouteKey']);
    expect(keys.sort()).toEqual(
      [
        'ANY /v1/admin/{proxy+}',
        'GET /v1/ping',
        'POST /v1/bot/{proxy+}',
        'POST /v1/join',
        'POST /v1/join/challenge',
      ].sort(),
    );
  });

  it('sends every route to the auth Lambda with payload format 2.0', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Integration', 1);
    template.hasResourceProperties('AWS::ApiGatewayV2::Integration', {
      IntegrationType: 'AWS_PROXY',
      IntegrationUri: getAtt(id.fn),
      PayloadFormatVersion: '2.0',
    });
  });

  it('throttles the stage and writes access logs with the caller identity', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      AccessLogSettings: {
        DestinationArn: getAtt(logicalIdOf(stack, 'Auth/ApiAccessLogs')),
        Format: Match.stringLikeRegexp('"iamUser":"\\$context.identity.userArn"'),
      },
    });
  });

  it('grants admins execute-api:Invoke on the admin routes only', () => {
    const statements = statementsOf(logicalIdOf(stack, '/Operator'));
    expect(statements).toEqual([
      {
        Action: 'execute-api:Invoke',
        Effect: 'Allow',
        Resource: {
          'Fn::Join': [
            '',
            [
              'arn:',
              { Ref: 'AWS::Partition' },
              ':execute-api:',
              { Ref: 'AWS::Region' },
              ':',
              { Ref: 'AWS::AccountId' },
              ':',
              ref(id.api),
              '/*/*/v1/admin/*',
            ],
          ],
        },
      },
    ]);
  });
});

describe('MachineIdAuth resources', () => {
  it('applies the given resources through a custom resource backed by the auth Lambda', () => {
    const custom = resources[id.resources];
    expect(custom?.Type).toBe('Custom::MachineIdResources');
    expect(custom?.Properties['Resources']).toBe(ROLES);
    const provider = logicalIdOf(stack, 'Auth/ResourcesProvider/framework-onEvent');
    expect(custom?.Properties['ServiceToken']).toEqual(getAtt(provider));
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ USER_ON_EVENT_FUNCTION_ARN: getAtt(id.fn) }) },
    });
  });
  it('lets the provider function write only its own logs and call the auth Lambda', () => {
    // Whoever controls that function administers the cluster (README, Security notes); its role gets
    // nothing beyond forwarding events, unlike AWSLambdaBasicExecutionRole's logs on every group.
    const provider = resources[logicalIdOf(stack, 'Auth/ResourcesProvider/framework-onEvent')];
    const roleId = logicalIdOf(stack, 'Auth/ResourcesProviderRole');
    expect(provider?.Properties['Role']).toEqual(getAtt(roleId));
    expect(resources[roleId]?.Properties['ManagedPolicyArns']).toBeUndefined();
    expect(statementsOf(roleId)).toEqual([
      {
        Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
        Effect: 'Allow',
        Resource: getAtt(logicalIdOf(stack, 'Auth/ResourcesProviderLogs')),
      },
      {
        Action: 'lambda:InvokeFunction',
        Effect: 'Allow',
        Resource: [getAtt(id.fn), { 'Fn::Join': ['', [getAtt(id.fn), ':*']] }],
      },
      { Action: 'lambda:GetFunction', Effect: 'Allow', Resource: getAtt(id.fn) },
    ]);
  });
});

describe('MachineIdAuth alarms', () => {
  it('alarms on Lambda errors, throttles and API 5xx answers', () => {
    for (const [namespace, metric] of [
      ['AWS/Lambda', 'Errors'],
      ['AWS/Lambda', 'Throttles'],
      ['AWS/ApiGateway', '5xx'],
    ] as const) {
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: namespace,
        MetricName: metric,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    }
    expect(auth.alarms).toHaveLength(3);
  });
});

describe('MachineIdAuth props', () => {
  it('refuses a cluster name that cannot go into a certificate, naming it and the rule', () => {
    const message = propsErrorOf(
      () => new MachineIdAuth(newStack(), 'Auth', { clusterName: 'my cluster', code: INLINE_CODE }),
    );
    expect(message).toBe(
      'Test/Auth: clusterName "my cluster" cannot be used: a space is not allowed (write my-cluster); a cluster name is a lower-case DNS name of at most 56 characters: labels of letters, digits and "-" separated by single dots, each starting and ending with a letter or digit (e.g. example.test)',
    );
  });

  it('holds a cluster name given to the rule of midctl auth start: one its CAs can be named after', () => {
    const refusal = (clusterName: string) =>
      propsErrorOf(() => new MachineIdAuth(newStack(), 'Auth', { clusterName, code: INLINE_CODE }));
    expect(refusal('Example_Test')).toContain('upper-case letters are not allowed (write example-test)');
    // "<name> user CA" must fit the 64 characters of a certificate's common name.
    expect(refusal(`${'a'.repeat(52)}.test`)).toContain('the name is 57 characters long');
  });

  it('says the cluster name came from the stack name when it did', () => {
    const message = propsErrorOf(
      () => new MachineIdAuth(newStack('A'.repeat(70)), 'Auth', { code: INLINE_CODE }),
    );
    expect(message).toContain('it defaults to the stack name; set clusterName');
  });

  it('refuses token-method tokens in resources: their name is the secret', () => {
    const token = `kind: token
version: v2
metadata:
  name: ${'a'.repeat(32)}
spec:
  roles: [Bot]
  join_method: token
  bot_name: ci
`;
    const message = propsErrorOf(
      () => new MachineIdAuth(newStack(), 'Auth', { resources: token, code: INLINE_CODE }),
    );
    expect(message).toContain('a token with join_method token is a secret');
    expect(message).not.toContain('a'.repeat(32));
  });

  it('refuses resources the service would refuse, with the schema message', () => {
    const message = propsErrorOf(
      () =>
        new MachineIdAuth(newStack(), 'Auth', {
          resources:
            'kind: role\nversion: v7\nmetadata:\n  name: ops\nspec:\n  allow:\n    logins: [root]\n  colour: red\n',
          code: INLINE_CODE,
        }),
    );
    expect(message).toMatch(/role "ops".*unknown key "colour"/);
  });

  it('refuses a bot that resources already define', () => {
    const stack2 = newStack();
    const auth2 = new MachineIdAuth(stack2, 'Auth', {
      resources: 'kind: bot\nversion: v1\nmetadata:\n  name: ci\nspec:\n  roles: [access]\n',
      code: INLINE_CODE,
    });
    const role = new iam.Role(stack2, 'R', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    expect(propsErrorOf(() => auth2.addBot({ botName: 'ci', roles: ['access'], role }))).toContain(
      'resources already define bot/ci, which MachineIdBot "ci" creates; remove it from resources',
    );
  });
});
