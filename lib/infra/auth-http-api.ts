import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpIamAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { ROUTES } from '../api/routes.js';

/**
 * The auth service's HTTP API: a throttled `$default` stage with JSON access logs (including the IAM
 * caller), the public routes (ping, join, bot calls: authenticated by the service itself) and the
 * operator routes under `/v1/admin/`, which API Gateway authorises with AWS IAM (SigV4).
 */
export function createAuthHttpApi(
  scope: Construct,
  options: {
    fn: lambda.IFunction;
    throttle: apigwv2.ThrottleSettings;
    logRetention: logs.RetentionDays;
    clusterName: string;
  },
): apigwv2.HttpApi {
  const { fn, throttle, logRetention } = options;
  const api = new apigwv2.HttpApi(scope, 'Api', {
    description: `Machine ID auth service of cluster ${options.clusterName}`,
    // The stage is created below with throttling and access logs, which the default stage lacks.
    createDefaultStage: false,
  });
  const accessLogs = new logs.LogGroup(scope, 'ApiAccessLogs', { retention: logRetention });
  new apigwv2.HttpStage(scope, 'Stage', {
    httpApi: api,
    stageName: '$default',
    autoDeploy: true,
    throttle,
    accessLogSettings: {
      destination: new apigwv2.LogGroupLogDestination(accessLogs),
      // Who called which route, and for admin routes the IAM identity that signed the request.
      format: AccessLogFormat.custom(
        JSON.stringify({
          requestId: '$context.requestId',
          time: '$context.requestTime',
          ip: '$context.identity.sourceIp',
          userAgent: '$context.identity.userAgent',
          routeKey: '$context.routeKey',
          status: '$context.status',
          responseLength: '$context.responseLength',
          latency: '$context.responseLatency',
          iamUser: '$context.identity.userArn',
          integrationError: '$context.integrationErrorMessage',
          authorizerError: '$context.authorizer.error',
        }),
      ),
    },
  });

  const integration = new HttpLambdaIntegration('AuthIntegration', fn, {
    payloadFormatVersion: apigwv2.PayloadFormatVersion.VERSION_2_0,
  });
  const publicRoutes: Array<[string, apigwv2.HttpMethod]> = [
    [ROUTES.ping, apigwv2.HttpMethod.GET],
    [ROUTES.joinChallenge, apigwv2.HttpMethod.POST],
    [ROUTES.join, apigwv2.HttpMethod.POST],
    ['/v1/bot/{proxy+}', apigwv2.HttpMethod.POST],
  ];
  for (const [path, method] of publicRoutes) {
    api.addRoutes({ path, methods: [method], integration });
  }
  api.addRoutes({
    path: '/v1/admin/{proxy+}',
    methods: [apigwv2.HttpMethod.ANY],
    integration,
    authorizer: new HttpIamAuthorizer(),
  });
  return api;
}
