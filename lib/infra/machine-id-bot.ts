import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { LambdaInvoke } from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { iamTokenName } from './bot-name-rules.js';
import { DEFAULT_BOT_TIMES } from './bot-rules.js';
import { cappedOutputLifetime } from './capped-output-lifetime.js';
import { invalidProps } from './invalid-props.js';
import type { MachineIdAuth } from './machine-id-auth.js';
import {
  MachineIdBotOutput,
  type MachineIdBotOutputProps,
  SECRET_WRITE_ACTIONS,
} from './machine-id-bot-output.js';
import { validateMachineIdBotProps } from './machine-id-bot-props-validation.js';
import { createMachineIdFunction, LAMBDAS_DIR } from './machine-id-function.js';
import { renderBotConfig } from './render-bot-config.js';
import { defaultSecretNamePrefix } from './secret-name-prefix-rule.js';

/** Properties of {@link MachineIdBot}. */
export interface MachineIdBotProps {
  /** The auth service the bot joins. The bot must be in the same stack. */
  readonly auth: MachineIdAuth;

  /**
   * The bot's name (the `bot` resource; its join token is `<botName>-iam`). 1 to 59 letters, digits,
   * `.`, `_` or `-`, starting with a letter or digit.
   */
  readonly botName: string;

  /** Roles the bot holds; each output gets all of them or the subset it names. */
  readonly roles: string[];

  /** What the bot issues on each run; one secret per output. At least one. */
  readonly outputs: MachineIdBotOutputProps[];

  /**
   * How often the bot runs and rewrites its outputs (a whole number of minutes).
   *
   * @default Duration.minutes(20)
   */
  readonly renewalInterval?: Duration;

  /**
   * How late within each interval EventBridge Scheduler may start a run, so that many bots do not all
   * start at the same second. `Duration.minutes(0)` turns it off.
   *
   * @default Duration.minutes(5)
   */
  readonly flexibleTimeWindow?: Duration;

  /**
   * How long issued certificates live. Must exceed the renewal interval plus the flexible window, or
   * certificates expire before the next run replaces them. The roles' `max_session_ttl` caps it.
   *
   * @default Duration.hours(1)
   */
  readonly certificateTtl?: Duration;

  /**
   * Customer managed key of the output secrets, in the stack's region (a KMS key is used only in its
   * own region: another region's is refused at synth). Its key policy must let IAM policies in this
   * account grant its use (the default key policy does).
   *
   * @default - the AWS managed key `aws/secretsmanager`
   */
  readonly kmsKey?: kms.IKey;

  /**
   * Prefix of the output secrets' names: each is `<prefix><output name>`. It must end in a separator
   * (`/`, or one of `_ + = . @ -`): `machine-id` is refused, as it would make `machine-idgrafana`.
   *
   * @default `machine-id/<botName>/`
   */
  readonly secretNamePrefix?: string;

  /**
   * Principals allowed to read every output through the secrets' resource policies, for readers this
   * app does not manage (a role in another account needs `kmsKey` too). For functions and roles in
   * this app use {@link MachineIdBot.grantRead} or `bot.output(name).grantRead`. Each listed once: a
   * repeat is refused at synth, as most likely a copy meant to name another principal.
   *
   * @default - none
   */
  readonly readers?: iam.IPrincipal[];

  /**
   * How long the bot Lambda's logs are kept.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * The bot Lambda's TypeScript entry, bundled with esbuild.
   *
   * @default - `lambdas/bot.ts` of this repository
   */
  readonly entry?: string;

  /**
   * Prebuilt code for the bot Lambda instead of bundling `entry` (handler `index.handler`). Meant for
   * tests that do not need a real bundle.
   *
   * @default - `entry` bundled with esbuild
   */
  readonly code?: lambda.Code;
}

/**
 * A Machine ID bot on AWS: a Lambda that EventBridge Scheduler runs every `renewalInterval`; each run
 * joins the auth service with the IAM method (as the Lambda's own role), issues every output and writes
 * each to its own Secrets Manager secret. Runs never overlap (reserved concurrency 1); failed runs are
 * retried, then land in an encrypted dead-letter queue, and alarms watch errors, the queue, and each
 * output's time to expiry.
 *
 * The bot's execution role may write its own output secrets and nothing else; each secret's resource
 * policy denies `PutSecretValue` to every other principal, and `UpdateSecret` and
 * `UpdateSecretVersionStage` to all but the stack's deploys.
 *
 * @example
 * const bot = new MachineIdBot(this, 'Grafana', {
 *   auth,
 *   botName: 'grafana-client',
 *   roles: ['grafana-reader'],
 *   outputs: [{ name: 'grafana', type: 'application', appName: 'grafana' }],
 * });
 * bot.output('grafana').grantRead(consumerFunction);
 */
export class MachineIdBot extends Construct {
  /** The bot's name. */
  public readonly botName: string;

  /** The bot Lambda. */
  public readonly function: lambda.IFunction;

  /** The bot Lambda's execution role (the identity its join token allows). */
  public readonly role: iam.IRole;

  /** The schedule that runs the bot. */
  public readonly schedule: scheduler.Schedule;

  /** Receives runs that failed after their retries, and schedule invocations that could not be delivered. */
  public readonly deadLetterQueue: sqs.IQueue;

  /** The outputs, each with its secret, in the order given. */
  public readonly outputs: readonly MachineIdBotOutput[];

  /** Alarms on failed runs, the dead-letter queue and each output's expiry; add actions to them. */
  public readonly alarms: cloudwatch.Alarm[] = [];

  /** How often the bot runs. */
  public readonly renewalInterval: Duration;

  /** How long its certificates live. */
  public readonly certificateTtl: Duration;

  constructor(scope: Construct, id: string, props: MachineIdBotProps) {
    super(scope, id);
    this.botName = props.botName;
    this.renewalInterval = props.renewalInterval ?? Duration.millis(DEFAULT_BOT_TIMES.renewalIntervalMs);
    this.certificateTtl = props.certificateTtl ?? Duration.millis(DEFAULT_BOT_TIMES.certificateTtlMs);
    const flexibleWindow =
      props.flexibleTimeWindow ?? Duration.millis(DEFAULT_BOT_TIMES.flexibleTimeWindowMs);
    const secretNamePrefix = props.secretNamePrefix ?? defaultSecretNamePrefix(props.botName);
    validateMachineIdBotProps(this, props, {
      renewalInterval: this.renewalInterval,
      certificateTtl: this.certificateTtl,
      flexibleWindow,
      secretNamePrefix,
    });
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    // An invocation still queued when the next one is due is redundant; let it go.
    const maxEventAge = Duration.seconds(Math.min(this.renewalInterval.toSeconds(), 6 * 3600));

    const deadLetterQueue = new sqs.Queue(this, 'DeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.deadLetterQueue = deadLetterQueue;

    const bot = createMachineIdFunction(this, 'Function', {
      description: `Machine ID bot ${props.botName}`,
      entry: props.entry ?? `${LAMBDAS_DIR}bot.ts`,
      code: props.code,
      memorySize: 512,
      // Room for the agent's own timeouts and retries at their worst (each auth call 15 s, each secret's
      // writes retried with backoff), so that a slow run ends with the agent's error, not a timeout.
      timeout: Duration.minutes(3),
      logRetention,
      // One run at a time: two overlapping runs would join twice and race on the same secrets.
      reservedConcurrentExecutions: 1,
      environment: {},
    });
    this.function = bot.function;
    this.role = bot.role;
    bot.function.configureAsyncInvoke({
      retryAttempts: 2,
      maxEventAge,
      onFailure: new SqsDestination(deadLetterQueue),
    });

    const readers = props.readers ?? [];
    const longestGap = this.renewalInterval.plus(flexibleWindow);
    this.outputs = props.outputs.map(
      (output) =>
        new MachineIdBotOutput(this, `Output-${output.name}`, {
          output,
          botName: props.botName,
          functionName: bot.function.functionName,
          secretName: `${secretNamePrefix}${output.name}`,
          writer: bot.role,
          readers,
          kmsKey: props.kmsKey,
          renewalInterval: this.renewalInterval,
          longestGap,
          certificateTtl: cappedOutputLifetime(
            this,
            { output: output.name, field: 'certificateTtl (certificate_ttl in a deployment file)' },
            this.certificateTtl,
            output.roles ?? props.roles,
            (role) => props.auth.sessionCapOf(role),
          ),
        }),
    );
    this.grantOwnOutputs(bot.role, props.kmsKey);

    bot.function.addEnvironment(
      'MID_BOT_CONFIG',
      renderBotConfig({
        authServer: props.auth.apiUrl,
        tokenName: iamTokenName(props.botName),
        outputs: this.outputs.map((output) => ({ output: output.props, secretArn: output.secret.secretArn })),
        certificateTtlMs: this.certificateTtl.toMilliseconds(),
        renewalIntervalMs: this.renewalInterval.toMilliseconds(),
      }),
    );

    props.auth.addBot({ botName: props.botName, roles: props.roles, role: bot.role });

    // A role of the bot's own (the target would otherwise make one at stack level), trusted by
    // EventBridge Scheduler on behalf of this account only.
    const scheduleRole = new iam.Role(this, 'ScheduleRole', {
      assumedBy: new iam.ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
      description: `Lets EventBridge Scheduler run Machine ID bot ${props.botName}`,
    });
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      description: `Runs Machine ID bot ${props.botName}`,
      schedule: scheduler.ScheduleExpression.rate(this.renewalInterval),
      timeWindow:
        flexibleWindow.toMinutes() === 0
          ? scheduler.TimeWindow.off()
          : scheduler.TimeWindow.flexible(flexibleWindow),
      target: new LambdaInvoke(bot.function, {
        role: scheduleRole,
        deadLetterQueue,
        retryAttempts: 2,
        maxEventAge,
      }),
    });
    // The first run must find the bot's join token.
    this.schedule.node.addDependency(props.auth.resourcesApplied);

    this.createAlarms(bot.function, deadLetterQueue);
    this.suppressNagFindings(deadLetterQueue, scheduleRole);
  }

  /**
   * The output named `name`.
   *
   * @throws if the bot has no such output; the message lists the ones it has.
   */
  public output(name: string): MachineIdBotOutput {
    const found = this.outputs.find((output) => output.name === name);
    if (found === undefined) {
      throw invalidProps(
        this,
        `bot "${this.botName}" has no output "${name}"; its outputs are ${this.outputs.map((output) => `"${output.name}"`).join(', ')}`,
      );
    }
    return found;
  }

  /**
   * Lets `grantee` read every output of the bot: `secretsmanager:GetSecretValue` and
   * `secretsmanager:DescribeSecret` on the output secrets (plus `kms:Decrypt` through Secrets Manager
   * with a customer managed key). To grant one output, use `bot.output(name).grantRead(grantee)`.
   */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    const [first, ...rest] = this.outputs.map((output) => output.grantRead(grantee));
    // Validation guarantees at least one output.
    return rest.reduce((all, grant) => all.combine(grant), first as iam.Grant);
  }

  private grantOwnOutputs(role: iam.Role, kmsKey: kms.IKey | undefined): void {
    role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        sid: 'WriteOwnOutputs',
        actions: [...SECRET_WRITE_ACTIONS],
        resources: this.outputs.map((output) => output.secret.secretArn),
      }),
    );
    if (kmsKey !== undefined) {
      // PutSecretValue under a customer managed key needs both: Secrets Manager generates a data key
      // for the new value and decrypts the secret's key material (AWS's PutSecretValue reference lists
      // kms:GenerateDataKey and kms:Decrypt); through Secrets Manager only.
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'OutputKeyViaSecretsManager',
          actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
          resources: [kmsKey.keyArn],
          // For the bot's own output secrets alone (Secrets Manager names the secret in the encryption
          // context of each call), not for every secret under the same key.
          conditions: {
            StringEquals: {
              'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com`,
              'kms:EncryptionContext:SecretARN': this.outputs.map((output) => output.secret.secretArn),
            },
          },
        }),
      );
    }
  }

  private createAlarms(fn: lambda.IFunction, deadLetterQueue: sqs.IQueue): void {
    const period = Duration.minutes(5);
    const common = {
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    };
    this.alarms.push(
      new cloudwatch.Alarm(this, 'ErrorsAlarm', {
        ...common,
        metric: fn.metricErrors({ period, statistic: 'Sum' }),
        alarmDescription: `Machine ID bot "${this.botName}": a run failed; see the bot's log group (outputs keep their last good value)`,
      }),
      new cloudwatch.Alarm(this, 'DeadLetterAlarm', {
        ...common,
        metric: deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
        alarmDescription: `Machine ID bot "${this.botName}": runs failed after their retries, or the schedule could not invoke the bot; see the dead-letter queue`,
      }),
      ...this.outputs.map((output) => output.expiryAlarm),
    );
  }

  private suppressNagFindings(deadLetterQueue: sqs.Queue, scheduleRole: iam.Role): void {
    NagSuppressions.addResourceSuppressions(deadLetterQueue, [
      {
        id: 'AwsSolutions-SQS3',
        reason:
          'This queue is itself the dead-letter queue of the bot (failed runs and undeliverable schedule invocations); a queue behind it would hold nothing',
      },
    ]);
    NagSuppressions.addResourceSuppressions(
      scheduleRole,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason:
            'EventBridge Scheduler may invoke any version of this one bot Lambda (`<function arn>:*`), as the CDK LambdaInvoke target grants; no other function',
          appliesTo: [{ regex: '/^Resource::<.*Function[0-9A-F]{8}\\.Arn>:\\*$/g' }],
        },
      ],
      true,
    );
  }
}
