import { Annotations, CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { botFunctionOutputId, botSecretOutputId, stackOutputIdClash } from './bot-stack-output-ids.js';
import type { Deployment, DeploymentOutput } from './deployment.js';
import { checkKmsKeyRegion } from './deployment-kms-region.js';
import { checkReaderAccounts } from './deployment-reader-accounts.js';
import { invalidProps } from './invalid-props.js';
import { KMS_KEY_REGION_UNCHECKED } from './kms-key-region-rule.js';
import { MachineIdAuth } from './machine-id-auth.js';
import { MachineIdBot } from './machine-id-bot.js';
import { type MachineIdBotOutputProps, READER_ACCOUNT_UNCHECKED } from './machine-id-bot-output.js';

/** Properties of {@link MachineIdStack}. */
export interface MachineIdStackProps extends StackProps {
  /** The parsed deployment file. */
  readonly deployment: Deployment;

  /**
   * Folder holding the Lambda entries `auth.ts` and `bot.ts`.
   *
   * @default - this repository's `lambdas/`
   */
  readonly lambdasDir?: string;

  /**
   * Prebuilt code for the auth and bot Lambdas instead of bundling (tests).
   *
   * @default - bundled with esbuild
   */
  readonly code?: { readonly auth?: lambda.Code; readonly bot?: lambda.Code };
}

/**
 * The stack id for a cluster: `MachineId-` and the cluster name with characters CloudFormation does not
 * allow in stack names replaced, so that two clusters can live in one account.
 */
export function stackIdFor(clusterName: string): string {
  return `MachineId-${clusterName.replace(/[^A-Za-z0-9-]/g, '-')}`.slice(0, 128);
}

/**
 * One Machine ID cluster as a deployment file describes it: the auth service, the resources and every
 * bot, with outputs naming what operators and consumers need (the API URL, the admin ARN to put in an
 * IAM policy, each output's secret ARN).
 */
export class MachineIdStack extends Stack {
  /** The auth service. */
  public readonly auth: MachineIdAuth;

  /** The bots, by name. */
  public readonly bots: ReadonlyMap<string, MachineIdBot>;

  constructor(scope: Construct, id: string, props: MachineIdStackProps) {
    super(scope, id, {
      description: `Machine ID cluster ${props.deployment.cluster_name} (serverless-machine-id)`,
      ...props,
    });
    const { deployment } = props;
    if (deployment.kms_key_arn !== undefined) {
      checkKmsKeyRegion(this, deployment.kms_key_arn, deployment.where(['kms_key_arn']));
    } else {
      checkReaderAccounts(this, deployment.bots, deployment.where);
    }
    const kmsKey =
      deployment.kms_key_arn === undefined
        ? undefined
        : kms.Key.fromKeyArn(this, 'Key', deployment.kms_key_arn);
    const logRetention = deployment.log_retention_days as logs.RetentionDays | undefined;
    const dir = props.lambdasDir === undefined ? undefined : props.lambdasDir.replace(/\/?$/, '/');

    this.auth = new MachineIdAuth(this, 'Auth', {
      clusterName: deployment.cluster_name,
      ...(deployment.signature_suite === undefined ? {} : { signatureSuite: deployment.signature_suite }),
      ...(kmsKey === undefined ? {} : { kmsKey }),
      ...(logRetention === undefined ? {} : { logRetention }),
      ...(deployment.resourcesYaml === undefined ? {} : { resources: deployment.resourcesYaml }),
      ...(dir === undefined ? {} : { entry: `${dir}auth.ts` }),
      ...(props.code?.auth === undefined ? {} : { code: props.code.auth }),
    });

    for (const warning of deployment.warnings) Annotations.of(this).addWarningV2(warning.id, warning.message);

    const clash = stackOutputIdClash(deployment.bots);
    if (clash !== undefined) throw invalidProps(this, clash.message);
    const bots = new Map<string, MachineIdBot>();
    for (const spec of deployment.bots) {
      const bot = new MachineIdBot(this, `Bot-${spec.name}`, {
        auth: this.auth,
        botName: spec.name,
        roles: spec.roles,
        outputs: spec.outputs.map(outputProps),
        ...(spec.renewal_interval === undefined
          ? {}
          : { renewalInterval: Duration.millis(spec.renewal_interval) }),
        ...(spec.certificate_ttl === undefined
          ? {}
          : { certificateTtl: Duration.millis(spec.certificate_ttl) }),
        ...(spec.flexible_time_window === undefined
          ? {}
          : { flexibleTimeWindow: Duration.millis(spec.flexible_time_window) }),
        ...(spec.secret_name_prefix === undefined ? {} : { secretNamePrefix: spec.secret_name_prefix }),
        ...(spec.readers === undefined
          ? {}
          : { readers: spec.readers.map((arn) => new iam.ArnPrincipal(arn)) }),
        ...(kmsKey === undefined ? {} : { kmsKey }),
        ...(logRetention === undefined ? {} : { logRetention }),
        ...(dir === undefined ? {} : { entry: `${dir}bot.ts` }),
        ...(props.code?.bot === undefined ? {} : { code: props.code.bot }),
      });
      // The file's check told of the key's region already, in the file's words and at its line.
      Annotations.of(bot).acknowledgeWarning(KMS_KEY_REGION_UNCHECKED);
      // The file's readers were warned of once, at their line, above: not again for every output.
      Annotations.of(bot).acknowledgeWarning(
        READER_ACCOUNT_UNCHECKED,
        'warned of at the deployment file line',
      );
      bots.set(spec.name, bot);
      new CfnOutput(this, botFunctionOutputId(spec.name), {
        description: `Bot ${spec.name}: its Lambda (aws lambda invoke --function-name <this> /dev/null runs it now)`,
        value: bot.function.functionName,
      });
      for (const output of bot.outputs) {
        new CfnOutput(this, botSecretOutputId(spec.name, output.name), {
          description: `Bot ${spec.name}, output ${output.name} (${output.type}): the secret consumers read`,
          value: output.secret.secretArn,
        });
      }
    }
    this.bots = bots;

    new CfnOutput(this, 'AuthServer', {
      description: 'The auth service URL (midctl --auth-server <this> --aws-iam)',
      value: this.auth.apiUrl,
    });
    new CfnOutput(this, 'ClusterName', { value: this.auth.clusterName });
    new CfnOutput(this, 'AdminInvokeArn', {
      description: 'Allow execute-api:Invoke on this ARN to let an IAM principal administer the cluster',
      value: this.auth.api.arnForExecuteApi('*', '/v1/admin/*', '*'),
    });
  }
}

function outputProps(output: DeploymentOutput): MachineIdBotOutputProps {
  return {
    name: output.name,
    type: output.type,
    ...(output.app_name === undefined ? {} : { appName: output.app_name }),
    ...(output.specific_tls_naming === undefined ? {} : { specificTlsNaming: output.specific_tls_naming }),
    ...(output.kubernetes_cluster === undefined ? {} : { kubernetesCluster: output.kubernetes_cluster }),
    ...(output.principals === undefined ? {} : { principals: output.principals }),
    ...(output.roles === undefined ? {} : { roles: output.roles }),
  };
}
