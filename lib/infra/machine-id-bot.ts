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
import { resourceNameProblem } from '../resources/metadata.js';
import { iamTokenName } from './bot-join-resources.js';
import { invalidProps } from './invalid-props.js';
import type { MachineIdAuth } from './machine-id-auth.js';
import {
  MachineIdBotOutput,
  type MachineIdBotOutputProps,
  type MachineIdOutputType,
  SECRET_WRITE_ACTIONS,
} from './machine-id-bot-output.js';
import { createMachineIdFunction, LAMBDAS_DIR } from './machine-id-function.js';
import { renderBotConfig } from './render-bot-config.js';

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
   * Customer managed key of the output secrets. Its key policy must let IAM policies in this account
   * grant its use (the default key policy does).
   *
   * @default - the AWS managed key `aws/secretsmanager`
   */
  readonly kmsKey?: kms.IKey;

  /**
   * Prefix of the output secrets' names: each is `<prefix><output name>`.
   *
   * @default `machine-id/<botName>/`
   */
  readonly secretNamePrefix?: string;

  /**
   * Principals allowed to read every output through the secrets' resource policies, for readers this
   * app does not manage (a role in another account needs `kmsKey` too). For functions and roles in
   * this app use {@link MachineIdBot.grantRead} or `bot.output(name).grantRead`.
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

const OUTPUT_TYPES: readonly MachineIdOutputType[] = ['identity', 'application', 'kubernetes', 'ssh_host'];

/** The agent config's rule for app, cluster and host names. */
const AGENT_NAME = /^[A-Za-z0-9_][A-Za-z0-9._@-]{0,252}$/;
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]*$/;
/** `<botName>-iam` must itself be a valid resource name (at most 63 characters). */
const MAX_BOT_NAME = 63 - '-iam'.length;

/**
 * A Machine ID bot on AWS: a Lambda that EventBridge Scheduler runs every `renewalInterval`; each run
 * joins the auth service with the IAM method (as the Lambda's own role), issues every output and writes
 * each to its own Secrets Manager secret. Runs never overlap (reserved concurrency 1); failed runs are
 * retried, then land in an encrypted dead-letter queue, and alarms watch errors, the queue, and each
 * output's time to expiry.
 *
 * The bot's execution role may write its own output secrets and nothing else; each secret's resource
 * policy denies `PutSecretValue` to every other principal.
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
    this.renewalInterval = props.renewalInterval ?? Duration.minutes(20);
    this.certificateTtl = props.certificateTtl ?? Duration.hours(1);
    const flexibleWindow = props.flexibleTimeWindow ?? Duration.minutes(5);
    const secretNamePrefix = props.secretNamePrefix ?? `machine-id/${props.botName}/`;
    this.validate(props, flexibleWindow, secretNamePrefix);
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
      timeout: Duration.minutes(2),
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
          secretName: `${secretNamePrefix}${output.name}`,
          writer: bot.role,
          readers,
          kmsKey: props.kmsKey,
          renewalInterval: this.renewalInterval,
          longestGap,
          certificateTtl: this.certificateTtl,
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
      // Secrets Manager generates a data key for each new value (PutSecretValue) and decrypts it to
      // read one back; through Secrets Manager only.
      role.addToPrincipalPolicy(
        new iam.PolicyStatement({
          sid: 'OutputKeyViaSecretsManager',
          actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
          resources: [kmsKey.keyArn],
          conditions: {
            StringEquals: { 'kms:ViaService': `secretsmanager.${Stack.of(this).region}.amazonaws.com` },
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

  private validate(props: MachineIdBotProps, flexibleWindow: Duration, secretNamePrefix: string): void {
    const { botName } = props;
    const nameProblem = resourceNameProblem(botName);
    if (nameProblem !== undefined) {
      throw invalidProps(this, `botName "${botName}" cannot be used: ${nameProblem}`);
    }
    if (botName.length > MAX_BOT_NAME) {
      throw invalidProps(
        this,
        `botName "${botName}" is ${botName.length} characters long; at most ${MAX_BOT_NAME}, so that its join token "${iamTokenName(botName)}" is a valid name`,
      );
    }
    if (Stack.of(props.auth) !== Stack.of(this)) {
      throw invalidProps(
        this,
        `bot "${botName}" is in stack ${Stack.of(this).stackName} but its auth is in stack ${Stack.of(props.auth).stackName}; create the bot in the auth's stack (the auth applies the bot's join token, which names the bot's role)`,
      );
    }
    this.validateRoles(props.roles);
    this.validateOutputs(props.outputs, props.roles, secretNamePrefix);
    this.validateTimes(flexibleWindow);
  }

  private validateRoles(roles: readonly string[]): void {
    if (roles.length === 0) {
      throw invalidProps(this, 'roles is empty; a bot needs at least one role, e.g. roles: ["access"]');
    }
    const seen = new Set<string>();
    for (const role of roles) {
      const problem = resourceNameProblem(role);
      if (problem !== undefined)
        throw invalidProps(this, `roles: "${role}" cannot be a role name: ${problem}`);
      if (seen.has(role)) throw invalidProps(this, `roles: "${role}" is listed twice; list it once`);
      seen.add(role);
    }
  }

  private validateOutputs(
    outputs: readonly MachineIdBotOutputProps[],
    botRoles: readonly string[],
    secretNamePrefix: string,
  ): void {
    if (outputs.length === 0) {
      throw invalidProps(
        this,
        'outputs is empty; a bot needs at least one output, e.g. outputs: [{ name: "identity", type: "identity" }]',
      );
    }
    if (!SECRET_NAME.test(secretNamePrefix)) {
      throw invalidProps(
        this,
        `secretNamePrefix "${secretNamePrefix}" cannot start a secret name; use letters, digits and / _ + = . @ -`,
      );
    }
    const seen = new Set<string>();
    outputs.forEach((output, index) => {
      const at = `outputs[${index}]`;
      const nameProblem = resourceNameProblem(output.name);
      if (nameProblem !== undefined) {
        throw invalidProps(this, `${at}.name "${output.name}" cannot be used: ${nameProblem}`);
      }
      if (seen.has(output.name)) {
        throw invalidProps(this, `${at}.name "${output.name}" is used twice; each output needs its own name`);
      }
      seen.add(output.name);
      if (`${secretNamePrefix}${output.name}`.length > 512) {
        throw invalidProps(
          this,
          `${at}: the secret name would exceed 512 characters; shorten secretNamePrefix`,
        );
      }
      if (!OUTPUT_TYPES.includes(output.type)) {
        throw invalidProps(
          this,
          `${at}.type "${String(output.type)}" is not an output type; use one of ${OUTPUT_TYPES.join(', ')}`,
        );
      }
      this.validateOutputFields(output, at);
      for (const role of output.roles ?? []) {
        if (!botRoles.includes(role)) {
          throw invalidProps(
            this,
            `${at}.roles: the bot does not hold role "${role}"; an output may only ask for roles the bot has (${botRoles.join(', ')}), so add it to the bot's roles or remove it here`,
          );
        }
      }
      if (output.roles !== undefined && output.roles.length === 0) {
        throw invalidProps(this, `${at}.roles is empty; remove it to use all the bot's roles, or list some`);
      }
    });
  }

  private validateOutputFields(output: MachineIdBotOutputProps, at: string): void {
    const fields: Array<[keyof MachineIdBotOutputProps, MachineIdOutputType]> = [
      ['appName', 'application'],
      ['specificTlsNaming', 'application'],
      ['kubernetesCluster', 'kubernetes'],
      ['principals', 'ssh_host'],
    ];
    for (const [field, type] of fields) {
      if (output[field] !== undefined && output.type !== type) {
        throw invalidProps(
          this,
          `${at}.${field} only applies to ${type} outputs, and this one is ${output.type}; remove ${field} or set type: ${type}`,
        );
      }
    }
    const required = (field: 'appName' | 'kubernetesCluster', what: string) => {
      const value = output[field];
      if (value === undefined) {
        throw invalidProps(
          this,
          `${at}: an output of type ${output.type} needs ${field}, the name of the ${what}`,
        );
      }
      if (!AGENT_NAME.test(value)) {
        throw invalidProps(
          this,
          `${at}.${field} "${value}" is not a valid name; use letters, digits and . _ @ -`,
        );
      }
    };
    if (output.type === 'application') required('appName', '`app` resource');
    if (output.type === 'kubernetes') required('kubernetesCluster', '`kube_cluster` resource');
    if (output.type === 'ssh_host') {
      if (output.principals === undefined || output.principals.length === 0) {
        throw invalidProps(
          this,
          `${at}: an ssh_host output needs principals, the host names its certificate is for, e.g. ["node1.example.com"]`,
        );
      }
      for (const principal of output.principals) {
        if (!AGENT_NAME.test(principal)) {
          throw invalidProps(
            this,
            `${at}.principals: "${principal}" is not a valid host name; use letters, digits and . _ @ -`,
          );
        }
      }
    }
  }

  private validateTimes(flexibleWindow: Duration): void {
    const interval = this.renewalInterval;
    const minutes = interval.toMinutes({ integral: false });
    if (!Number.isInteger(minutes) || minutes < 1) {
      throw invalidProps(
        this,
        `renewalInterval is ${interval.toHumanString()}; EventBridge Scheduler runs at whole minutes, so use e.g. Duration.minutes(20)`,
      );
    }
    const window = flexibleWindow.toMinutes({ integral: false });
    if (!Number.isInteger(window) || window < 0 || window > 1440) {
      throw invalidProps(
        this,
        `flexibleTimeWindow is ${flexibleWindow.toHumanString()}; use whole minutes from 0 (off) to 1440, e.g. Duration.minutes(5)`,
      );
    }
    const ttl = this.certificateTtl;
    if (interval.toSeconds() >= ttl.toSeconds()) {
      throw invalidProps(
        this,
        `renewalInterval (${interval.toHumanString()}) must be shorter than certificateTtl (${ttl.toHumanString()}), or certificates expire before they are renewed; lower renewalInterval or raise certificateTtl`,
      );
    }
    if (interval.toSeconds() + flexibleWindow.toSeconds() >= ttl.toSeconds()) {
      throw invalidProps(
        this,
        `renewalInterval (${interval.toHumanString()}) plus flexibleTimeWindow (${flexibleWindow.toHumanString()}) must be shorter than certificateTtl (${ttl.toHumanString()}): a run may start that late, after the certificates expired; lower either, or raise certificateTtl`,
      );
    }
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
