import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { NagSuppressions } from 'cdk-nag';

/** The cdk-nag (AwsSolutions) findings the auth service accepts by design, each with its reason. */
export function suppressAuthNagFindings(parts: {
  readonly role: iam.Role;
  readonly caSecret: secretsmanager.ISecret;
  readonly api: apigwv2.HttpApi;
}): void {
  const { role, caSecret, api } = parts;
  NagSuppressions.addResourceSuppressions(
    role,
    [
      {
        id: 'AwsSolutions-IAM5',
        reason:
          'kms:ReEncrypt* and kms:GenerateDataKey* are the action families DynamoDB uses with a customer managed table key; they apply to that one key and only through DynamoDB (kms:ViaService)',
        appliesTo: ['Action::kms:ReEncrypt*', 'Action::kms:GenerateDataKey*'],
      },
    ],
    true,
  );
  NagSuppressions.addResourceSuppressions(caSecret, [
    {
      id: 'AwsSolutions-SMG4',
      reason:
        'The CA keys are not rotated by a Secrets Manager rotation Lambda: replacing them invalidates every issued certificate and trust anchor, so it is done on purpose by discarding the CAs (README, Security notes), and bots join again',
    },
  ]);
  NagSuppressions.addResourceSuppressions(
    api,
    [
      {
        id: 'AwsSolutions-APIG4',
        reason:
          'Ping, join and bot routes are public by design and authenticated by the service: IAM join proofs (signed sts:GetCallerIdentity with a single-use challenge) and signatures with the bot key. Admin routes use the IAM authorizer',
      },
    ],
    true,
  );
}
