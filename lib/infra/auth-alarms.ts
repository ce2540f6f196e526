import { Duration } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';

/**
 * The auth service's alarms: the Lambda's errors and throttles and the API's 5xx answers, each on any
 * occurrence in five minutes. They have no actions; the stack's owner adds them (SNS, a pager).
 */
export function createAuthAlarms(
  scope: Construct,
  fn: lambda.IFunction,
  api: apigwv2.HttpApi,
  clusterName: string,
): cloudwatch.Alarm[] {
  const period = Duration.minutes(5);
  const alarm = (id: string, metric: cloudwatch.IMetric, description: string) =>
    new cloudwatch.Alarm(scope, id, {
      metric,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      alarmDescription: `Machine ID cluster ${clusterName}: ${description}`,
    });
  return [
    alarm(
      'ErrorsAlarm',
      fn.metricErrors({ period, statistic: 'Sum' }),
      'the auth Lambda failed (uncaught errors or timeouts); see its log group',
    ),
    alarm(
      'ThrottlesAlarm',
      fn.metricThrottles({ period, statistic: 'Sum' }),
      'the auth Lambda was throttled; joins and renewals may fail',
    ),
    alarm(
      'Api5xxAlarm',
      api.metricServerError({ period, statistic: 'Sum' }),
      'the API answered 5xx; see the access logs and the auth Lambda log group',
    ),
  ];
}
