import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as cr from 'aws-cdk-lib/custom-resources';
import { NagSuppressions } from 'cdk-nag';
import type { Construct } from 'constructs';

/**
 * The custom resource provider that hands CloudFormation's events for the deployment's resources to the
 * auth Lambda. The provider framework answers CloudFormation (also when the handler throws or times
 * out), so the auth handler only returns or throws; a hand-rolled response that never arrives stalls a
 * deploy for an hour.
 *
 * Its function gets a role of its own: the framework's default attaches AWSLambdaBasicExecutionRole,
 * whose logs statements cover every log group in the account. This one may write its own log group and
 * (granted by the framework) invoke the auth Lambda, nothing else.
 */
export function createResourcesProvider(
  scope: Construct,
  options: {
    readonly fn: lambda.IFunction;
    readonly logRetention: logs.RetentionDays;
    readonly clusterName: string;
  },
): cr.Provider {
  const logGroup = new logs.LogGroup(scope, 'ResourcesProviderLogs', { retention: options.logRetention });
  const role = new iam.Role(scope, 'ResourcesProviderRole', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `Execution role of the resources provider of Machine ID cluster ${options.clusterName}`,
  });
  logGroup.grantWrite(role);
  const provider = new cr.Provider(scope, 'ResourcesProvider', {
    onEventHandler: options.fn,
    logGroup,
    frameworkOnEventRole: role,
  });
  NagSuppressions.addResourceSuppressions(
    role,
    [
      {
        id: 'AwsSolutions-IAM5',
        reason:
          'The provider framework may invoke any version of the auth Lambda (`<function arn>:*`); it is still that one function',
        appliesTo: [{ regex: '/^Resource::<.*Function[0-9A-F]{8}\\.Arn>:\\*$/g' }],
      },
    ],
    true,
  );
  return provider;
}
