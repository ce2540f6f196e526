import { Stack } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { deployRoleArns, SECRET_REPLACE_ACTIONS } from './secret-replacement.js';

/** DynamoDB actions the auth service uses: item reads and writes (batched when side by side), conditional writes, Query. */
export const AUTH_TABLE_ACTIONS = [
  'dynamodb:GetItem',
  'dynamodb:BatchGetItem',
  'dynamodb:PutItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:DeleteItem',
  'dynamodb:Query',
] as const;

/**
 * Secrets Manager actions the auth service uses on its CA secret: it reads the CAs and writes the first
 * ones; while the secret holds a placeholder, it lists the versions to find CAs pushed aside. It never
 * calls DescribeSecret, and never CreateSecret either (given the secret's ARN, the CA store refuses to
 * create a missing secret).
 */
export const AUTH_CA_SECRET_ACTIONS = [
  'secretsmanager:GetSecretValue',
  'secretsmanager:PutSecretValue',
  'secretsmanager:ListSecretVersionIds',
] as const;

/**
 * What the auth service's role may do, and nothing more: read and write its table, read its CA secret
 * and write the first CAs into it (the secret's resource policy denies everyone else the value, and
 * denies replacing it to all but the deploys of the stack), and use a customer managed key only through
 * those two services.
 */
export function grantAuthServiceAccess(parts: {
  readonly role: iam.Role;
  readonly table: dynamodb.Table;
  readonly caSecret: secretsmanager.Secret;
  readonly kmsKey: kms.IKey | undefined;
  /** Whether the CA secret outlives the stack (any removal policy but DESTROY). */
  readonly retained: boolean;
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
  // policies allow secretsmanager:* on every secret (the managed SecretsManagerReadWrite policy, say)
  // may not read them or put new ones. CloudFormation never reads or puts the value.
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
  // Nor may they swap the CAs for keys of their own, or roll AWSCURRENT back to the placeholder, which
  // stops every cold start until the CAs are put back (the service refuses to make new ones). The deploys
  // of this stack are exempt: CloudFormation calls UpdateSecret when the secret's description or KMS key
  // changes (it is only exempt from these two actions, so a template cannot read the keys through a
  // dynamic reference either).
  caSecret.addToResourcePolicy(
    new iam.PolicyStatement({
      sid: 'OnlyTheAuthServiceAndDeploysUpdateTheCaSecret',
      effect: iam.Effect.DENY,
      principals: [new iam.AnyPrincipal()],
      actions: [...SECRET_REPLACE_ACTIONS],
      resources: ['*'],
      conditions: {
        ArnNotEquals: { 'aws:PrincipalArn': [role.roleArn, ...deployRoleArns(caSecret)] },
      },
    }),
  );
  if (parts.retained) {
    // A kept CA secret is kept from a DeleteSecret by hand too, as the table is by its deletion
    // protection: deleted, every cold start would stop (the service never makes CAs in place of lost
    // ones), and with ForceDeleteWithoutRecovery the keys would be gone for good, with every bot, node
    // and app trusting CAs no one can sign with. CloudFormation never deletes a kept secret; whoever
    // means it removes this statement (or the whole resource policy) first.
    caSecret.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'NoOneDeletesTheKeptCaSecret',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['secretsmanager:DeleteSecret'],
        resources: ['*'],
      }),
    );
  }
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
        // For the CA secret alone: Secrets Manager names the secret in the encryption context of
        // every call it makes to KMS for it, so other secrets under the same key stay out of reach.
        conditions: {
          StringEquals: {
            'kms:ViaService': `secretsmanager.${region}.amazonaws.com`,
            'kms:EncryptionContext:SecretARN': caSecret.secretArn,
          },
        },
      }),
    );
  }
}
