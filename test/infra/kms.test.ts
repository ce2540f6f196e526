import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { beforeAll, describe, expect, it } from 'vitest';
import { MachineIdAuth } from '../../lib/infra/machine-id-auth.js';
import { MachineIdBot } from '../../lib/infra/machine-id-bot.js';
import { getAtt, INLINE_CODE, logicalIdOf, newStack, ref } from './support.js';

// An imported key, as a deployment file's kms_key_arn gives it: the constructs cannot change its key
// policy, so every permission has to be on the roles.
const KEY_ARN = 'arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

const stack = newStack();
const key = kms.Key.fromKeyArn(stack, 'Key', KEY_ARN);
const auth = new MachineIdAuth(stack, 'Auth', { kmsKey: key, code: INLINE_CODE });
const bot = new MachineIdBot(stack, 'Bot', {
  auth,
  botName: 'ci',
  roles: ['access'],
  outputs: [
    { name: 'ssh', type: 'identity' },
    { name: 'app', type: 'application', appName: 'grafana' },
  ],
  kmsKey: key,
  code: INLINE_CODE,
});
const reader = new iam.Role(stack, 'Reader', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
bot.output('app').grantRead(reader);

let template: Template;
let resources: Record<string, { Properties: Record<string, unknown> }>;
beforeAll(() => {
  template = Template.fromStack(stack);
  resources = template.toJSON().Resources;
});

function statementsOf(roleId: string): Array<Record<string, unknown>> {
  return Object.values(
    template.findResources('AWS::IAM::Policy', { Properties: { Roles: [ref(roleId)] } }),
  ).flatMap(
    (policy) =>
      (policy as { Properties: { PolicyDocument: { Statement: Array<Record<string, unknown>> } } }).Properties
        .PolicyDocument.Statement,
  );
}

const viaService = (service: string) => ({
  'kms:ViaService': { 'Fn::Join': ['', [`${service}.`, { Ref: 'AWS::Region' }, '.amazonaws.com']] },
});

/** Through Secrets Manager, and for these secrets only: the encryption context names the secret. */
const forSecrets = (...secrets: string[]) => ({
  StringEquals: {
    ...viaService('secretsmanager'),
    'kms:EncryptionContext:SecretARN':
      secrets.length === 1
        ? ref(logicalIdOf(stack, secrets[0] as string))
        : secrets.map((secret) => ref(logicalIdOf(stack, secret))),
  },
});

describe('with a customer managed key', () => {
  it('encrypts the table, the CA secret and every output secret with it', () => {
    expect(resources[logicalIdOf(stack, 'Auth/Table')]?.Properties['SSESpecification']).toEqual({
      KMSMasterKeyId: KEY_ARN,
      SSEEnabled: true,
      SSEType: 'KMS',
    });
    for (const secret of ['Auth/CaSecret', 'Bot/Output-ssh/Secret', 'Bot/Output-app/Secret']) {
      expect(resources[logicalIdOf(stack, secret)]?.Properties['KmsKeyId'], secret).toBe(KEY_ARN);
    }
  });

  it('lets the auth role use the key only through DynamoDB, and through Secrets Manager for its CA secret alone', () => {
    const kmsStatements = statementsOf(logicalIdOf(stack, 'Auth/FunctionRole')).filter((s) =>
      [s['Action']].flat().some((action) => String(action).startsWith('kms:')),
    );
    expect(kmsStatements).toEqual([
      {
        Sid: 'KeyViaDynamoDb',
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:GenerateDataKey*', 'kms:ReEncrypt*'],
        Resource: KEY_ARN,
        Condition: { StringEquals: viaService('dynamodb') },
      },
      {
        Sid: 'KeyViaSecretsManager',
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: KEY_ARN,
        Condition: forSecrets('Auth/CaSecret'),
      },
    ]);
  });

  it('lets the bot role write new values (GenerateDataKey and Decrypt, as PutSecretValue needs) only through Secrets Manager, for its own outputs', () => {
    const kmsStatements = statementsOf(logicalIdOf(stack, 'Bot/FunctionRole')).filter((s) =>
      [s['Action']].flat().some((action) => String(action).startsWith('kms:')),
    );
    expect(kmsStatements).toEqual([
      {
        Sid: 'OutputKeyViaSecretsManager',
        Effect: 'Allow',
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Resource: KEY_ARN,
        Condition: forSecrets('Bot/Output-ssh/Secret', 'Bot/Output-app/Secret'),
      },
    ]);
  });

  it('grants readers kms:Decrypt through Secrets Manager for the secret they read, along with the read', () => {
    expect(statementsOf(logicalIdOf(stack, '/Reader'))).toEqual([
      {
        Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'],
        Effect: 'Allow',
        Resource: ref(logicalIdOf(stack, 'Bot/Output-app/Secret')),
      },
      {
        Action: 'kms:Decrypt',
        Effect: 'Allow',
        Resource: KEY_ARN,
        // The one output it may read, not the bot's other output under the same key.
        Condition: forSecrets('Bot/Output-app/Secret'),
      },
    ]);
  });

  it('still denies reading, putting and replacing the CA keys to everyone but the auth role (and deploys, for replacing)', () => {
    template.hasResourceProperties('AWS::SecretsManager::ResourcePolicy', {
      SecretId: ref(logicalIdOf(stack, 'Auth/CaSecret')),
      ResourcePolicy: {
        Version: '2012-10-17',
        Statement: [
          {
            Sid: 'OnlyTheAuthServiceUsesTheCaKeys',
            Effect: 'Deny',
            Principal: { AWS: '*' },
            Action: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'],
            Resource: '*',
            Condition: {
              ArnNotEquals: { 'aws:PrincipalArn': getAtt(logicalIdOf(stack, 'Auth/FunctionRole')) },
            },
          },
          {
            Sid: 'OnlyTheAuthServiceAndDeploysUpdateTheCaSecret',
            Effect: 'Deny',
            Principal: { AWS: '*' },
            // A deploy that changes the secret's KMS key calls UpdateSecret as the bootstrap's
            // CloudFormation execution role: exempt, so a new kms_key_arn deploys.
            Action: ['secretsmanager:UpdateSecret', 'secretsmanager:UpdateSecretVersionStage'],
            Resource: '*',
            Condition: {
              ArnNotEquals: {
                'aws:PrincipalArn': [
                  getAtt(logicalIdOf(stack, 'Auth/FunctionRole')),
                  { 'Fn::Sub': Match.stringLikeRegexp('cfn-exec-role') },
                ],
              },
            },
          },
          Match.objectLike({ Sid: 'NoOneDeletesTheKeptCaSecret' }),
        ],
      },
    });
  });
});
