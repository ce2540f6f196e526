import { Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';

/** DynamoDB actions the auth service uses: item reads and writes (batched when side by side), conditional writes, Query. */
export const AUTH_TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:PutItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:DeleteItem',
  'dynamodb:Query',
] as const;

/** Secrets Manager actions the auth service uses on its CA secret. */
export const AUTH_CA_SECRET_ACTIONS = [
  'secretsmanager:GetSecretValue',
  'secretsmanager:PutSecretValue',
  'secretsmanager:DescribeSecret',
] as const;

/** Log levels the auth Lambda reads from `MID_LOG_LEVEL`. */
/**
 * What the auth service's role may do, and nothing more: read and write its table, read and create its
 * CA secret (which denies everyone else the value), and use a customer managed key only through those
 * two services.
 */
export function grantAuthServiceAccess(parts: {
  readonly role: iam.Role;
  readonly table: dynamodb.Table;
  readonly caSecret: secretsmanager.Secret;
  readonly kmsKey: kms.IKey | undefined;
}): void {
  const { role, table, caSecret, kmsKey } = parts;
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'AuthTable',
      actions: [...AUTH_TABLE_ACTIONS],
      resources: [table.tableArn],
    }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      sid: 'CaSecret',
      actions: [...AUTH_CA_SECRET_ACTIONS],
      resources: [caSecret.secretArn],
    }),
  );
  // The CA keys are the keys to everything this service vouches for: even principals whose own
  // policies allow secretsmanager:* on every secret may not read or replace them. CloudFormation keeps
  // working (it creates, describes, updates metadata and deletes; it never reads or puts the value).
  caSecret.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'OnlyTheAuthServiceUsesTheCaKeys',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: ['secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'],
      resources: ['*'],
      conditions: { ArnNotEquals: { 'aws:PrincipalArn': role.roleArn } },
    }),
  );
  if (kmsKey !== undefined) {
    const region = Stack.of(role).region;
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'KeyViaDynamoDb',
        actions: ['kms:Decrypt', 'kms:DescribeKey', 'kms:Encrypt', 'kms:ReEncrypt*', 'kms:GenerateDataKey*'],
        resources: [kmsKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `dynamodb.${region}.amazonaws.com` } },
      }),
    );
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'KeyViaSecretsManager',
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [kmsKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `secretsmanager.${region}.amazonaws.com` } },
      }),
    );
  }
}
