import {
  Annotations,
  Duration,
  RemovalPolicy,
  SecretValue,
  Stack,
  Token,
  TokenComparison,
} from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { secretsManagerDestinationLabel } from '../bot/destinations/secret-value.js';
import { EXPIRY_ALARM_MARGIN_MS } from './bot-rules.js';
import { describePrincipal } from './describe-principal.js';
import { invalidProps } from './invalid-props.js';
import { deployRoleArns, SECRET_REPLACE_ACTIONS } from './secret-replacement.js';
import { UNINITIALISED_SECRET_VALUE } from './uninitialised-secret-value.js';

/** The warning of readers whose account is checked only at deploy (an environment-agnostic stack). */
export const READER_ACCOUNT_UNCHECKED = 'machine-id:reader-account-unchecked';

/** Kinds of output a bot writes, as in the agent's config. */
export type MachineIdOutputType = 'identity' | 'application' | 'kubernetes' | 'ssh_host';

/** One output of a {@link MachineIdBot}: what to issue, written to a secret of its own. */
export interface MachineIdBotOutputProps {
  /**
   * Names the output within its bot: its secret is `<secretNamePrefix><name>` and `bot.output(name)`
   * finds it. 1 to 63 letters, digits, `.`, `_` or `-`, starting with a letter or digit.
   */
  readonly name: string;

  /** What to issue: an identity (SSH + TLS), an application certificate, a kubeconfig or an SSH host certificate. */
  readonly type: MachineIdOutputType;

  /**
   * The `app` resource an `application` output is for. Required for `application`, refused otherwise.
   *
   * @default - none (only for `application`)
   */
  readonly appName?: string;

  /**
   * `application` only: also write `tls.crt`, `tls.key` and `tls.cas`.
   *
   * @default false
   */
  readonly specificTlsNaming?: boolean;

  /**
   * The `kube_cluster` resource a `kubernetes` output is for. Required for `kubernetes`, refused otherwise.
   *
   * @default - none (only for `kubernetes`)
   */
  readonly kubernetesCluster?: string;

  /**
   * Host names an `ssh_host` certificate is for. Required (at least one) for `ssh_host`, refused otherwise.
   *
   * @default - none (only for `ssh_host`)
   */
  readonly principals?: string[];

  /**
   * A subset of the bot's roles to put in this output's certificates.
   *
   * @default - all the bot's roles
   */
  readonly roles?: string[];
}

/** Properties of {@link MachineIdBotOutput}; {@link MachineIdBot} builds these. */
export interface MachineIdBotOutputConstructProps {
  /** The output as the user described it (already validated by the bot). */
  readonly output: MachineIdBotOutputProps;
  /** The bot's name, for descriptions and metric dimensions. */
  readonly botName: string;
  /**
   * The bot Lambda's name, a metric dimension too: unique in the account and region, so that bots of
   * the same name in two clusters there never report into one metric (and hide each other's silence).
   */
  readonly functionName: string;
  /** The secret's name. */
  readonly secretName: string;
  /** The only principal that may write the secret. */
  readonly writer: iam.IRole;
  /** Principals allowed to read the secret through its resource policy. */
  readonly readers: readonly iam.IPrincipal[];
  /** Customer managed key of the secret. @default - aws/secretsmanager */
  readonly kmsKey?: kms.IKey | undefined;
  /** How often the bot runs: the expiry alarm's threshold is this plus ten minutes. */
  readonly renewalInterval: Duration;
  /** The longest gap between two runs (renewal interval plus the flexible window). */
  readonly longestGap: Duration;
  /** How long certificates live. */
  readonly certificateTtl: Duration;
}

/** Actions that read a secret's value: all a consumer needs, and all `grantRead` gives. */
export const SECRET_READ_ACTIONS = [
  'secretsmanager:GetSecretValue',
  'secretsmanager:DescribeSecret',
] as const;

/**
 * Actions the bot uses on its own output secrets: one `PutSecretValue` per output per run. It never
 * reads them (its storage is in memory, so nothing of its own lives in a secret), and never creates or
 * describes them (it is given each secret's ARN, which it refuses to create).
 */
export const SECRET_WRITE_ACTIONS = ['secretsmanager:PutSecretValue'] as const;

/**
 * What an output is for, as the agent names it in logs and in the `Output` dimension of its
 * `SecondsUntilExpiry` metric: `identity`, `app "grafana"`, `Kubernetes cluster "prod"`,
 * `SSH host a, b`. It must stay equal to the agent's `describeOutputTarget` (a test compares them); it is
 * repeated here so that synth does not load the agent and its AWS SDK clients. Two outputs of one bot
 * for the same target are told apart by the metric's `Destination` dimension.
 */
export function outputTarget(output: MachineIdBotOutputProps): string {
  switch (output.type) {
    case 'identity':
      return 'identity';
    case 'application':
      return `app "${output.appName ?? ''}"`;
    case 'kubernetes':
      return `Kubernetes cluster "${output.kubernetesCluster ?? ''}"`;
    case 'ssh_host':
      return `SSH host ${(output.principals ?? []).join(', ')}`;
  }
}

/** The CloudWatch namespace of the bot's own metrics (Embedded Metric Format). */
export const METRIC_NAMESPACE = 'MachineId';

/**
 * One output of a bot: a Secrets Manager secret that the bot Lambda overwrites on every run with the
 * output's artifacts (one JSON object, file name to content, plus `expires_at` and friends), and an
 * alarm that fires when the artifacts are about to expire without a fresh run.
 */
export class MachineIdBotOutput extends Construct {
  /** The output's name within its bot. */
  public readonly name: string;

  /** What the output issues. */
  public readonly type: MachineIdOutputType;

  /** The secret holding the output's artifacts. */
  public readonly secret: secretsmanager.ISecret;

  /** Fires when the output's artifacts get close to expiry (see {@link metricSecondsUntilExpiry}). */
  public readonly expiryAlarm: cloudwatch.Alarm;

  /** The output as configured. */
  public readonly props: MachineIdBotOutputProps;

  private readonly botName: string;
  private readonly functionName: string;
  private readonly kmsKey: kms.IKey | undefined;

  constructor(scope: Construct, id: string, props: MachineIdBotOutputConstructProps) {
    super(scope, id);
    this.name = props.output.name;
    this.type = props.output.type;
    this.props = props.output;
    this.botName = props.botName;
    this.functionName = props.functionName;
    this.kmsKey = props.kmsKey;

    const secret = new secretsmanager.Secret(this, 'Secret', {
      secretName: props.secretName,
      description: `Machine ID output "${this.name}" (${this.type}) of bot "${props.botName}", rewritten by the bot Lambda on every run`,
      // Not a secret: the marker consumers read as "not issued yet" until the bot's first run.
      secretStringValue: SecretValue.unsafePlainText(UNINITIALISED_SECRET_VALUE),
      ...(props.kmsKey === undefined ? {} : { encryptionKey: props.kmsKey }),
      // The value is regenerated every run; keeping an orphaned copy of short-lived keys helps nobody.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.secret = secret;
    this.addResourcePolicy(secret, props.writer, props.readers);
    this.expiryAlarm = this.createExpiryAlarm(props);

    NagSuppressions.addResourceSuppressions(secret, [
      {
        id: 'AwsSolutions-SMG4',
        reason:
          'The bot Lambda replaces the value with freshly issued short-lived certificates on every run (every 20 minutes by default); a rotation Lambda would have nothing to add',
      },
    ]);
  }

  /**
   * Lets `grantee` read this output: `secretsmanager:GetSecretValue` and `secretsmanager:DescribeSecret`
   * on this secret, plus `kms:Decrypt` through Secrets Manager when the secret uses a customer managed
   * key. A grantee in another account is added to the secret's resource policy, which needs a customer
   * managed key (the AWS managed key cannot be shared).
   */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    const stack = Stack.of(this);
    this.refuseReadersThatCannotDecrypt('grantRead', [grantee.grantPrincipal]);
    let grant = iam.Grant.addToPrincipalOrResource({
      grantee,
      actions: [...SECRET_READ_ACTIONS],
      resourceArns: [this.secret.secretArn],
      resource: this.secret,
    });
    if (this.kmsKey !== undefined) {
      // On the grantee's own policy: an imported key's policy cannot be changed from here, and
      // kms.Key#grantDecrypt with a ViaServicePrincipal adds nothing to a principal policy for one.
      grant = grant.combine(
        iam.Grant.addToPrincipal({
          grantee,
          actions: ['kms:Decrypt'],
          resourceArns: [this.kmsKey.keyArn],
          // This output's secret alone (Secrets Manager names it in the encryption context): a reader
          // of one output cannot decrypt another secret under the same key, whatever else it may read.
          conditions: {
            StringEquals: {
              'kms:ViaService': `secretsmanager.${stack.region}.amazonaws.com`,
              'kms:EncryptionContext:SecretARN': this.secret.secretArn,
            },
          },
        }),
      );
    }
    return grant;
  }

  /**
   * Seconds until this output's artifacts expire, as the bot Lambda reports after each write (Embedded
   * Metric Format, namespace `MachineId`, dimensions `Function`, `Bot` = the bot's name, `Output` = what
   * the output is for, in the agent's words ({@link outputTarget}), and `Destination` = the output's
   * secret, as the agent names it (`aws_secrets_manager <secret ARN>`), so that each output has a
   * metric of its own even when two are for the same target.
   *
   * @default - minimum over 5 minutes
   */
  public metricSecondsUntilExpiry(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: METRIC_NAMESPACE,
      metricName: 'SecondsUntilExpiry',
      dimensionsMap: {
        Function: this.functionName,
        Bot: this.botName,
        Output: outputTarget(this.props),
        Destination: secretsManagerDestinationLabel(this.secret.secretArn),
      },
      statistic: 'Minimum',
      period: Duration.minutes(5),
      ...props,
    });
  }

  /**
   * Refuses readers that the resource policy would let in but that could never decrypt the value: a
   * principal in another account than the stack's while the secret is under the AWS managed key, which
   * cannot be shared. Known at synth when the stack's account is: an environment-agnostic stack's
   * account is only decided at deploy, so there only readers in two different accounts (of which at
   * least one must be foreign) are caught.
   */
  private refuseReadersThatCannotDecrypt(via: string, readers: readonly iam.IPrincipal[]): void {
    if (this.kmsKey !== undefined) return;
    const stackAccount = Stack.of(this).account;
    const fix =
      'a secret under the AWS managed key cannot be read from another account; give the bot a kmsKey (kms_key_arn in a deployment file) whose key policy grants that account kms:Decrypt, or remove the reader';
    let firstLiteral: { readonly reader: iam.IPrincipal; readonly account: string } | undefined;
    for (const reader of readers) {
      const account = accountOf(reader);
      if (account === undefined) continue;
      if (Token.compareStrings(stackAccount, account) === TokenComparison.DIFFERENT) {
        throw invalidProps(
          this,
          `${via}: ${describePrincipal(reader)} is in account ${account}, not the stack's ${stackAccount}, and ${fix}`,
        );
      }
      // Only literal accounts can be told apart: a token may well resolve to the other one.
      if (!Token.isUnresolved(stackAccount) || Token.isUnresolved(account)) continue;
      if (firstLiteral !== undefined && firstLiteral.account !== account) {
        throw invalidProps(
          this,
          `${via}: ${describePrincipal(firstLiteral.reader)} (account ${firstLiteral.account}) and ${describePrincipal(reader)} (account ${account}) cannot both be in the stack's account, and ${fix}`,
        );
      }
      firstLiteral ??= { reader, account };
    }
    // One account, decided only at deploy: the reader is fine there and locked out anywhere else.
    if (firstLiteral !== undefined) {
      Annotations.of(this).addWarningV2(
        READER_ACCOUNT_UNCHECKED,
        `${via}: ${describePrincipal(firstLiteral.reader)} is in account ${firstLiteral.account}; the stack's account is not known at synth (an environment-agnostic stack: the CDK CLI had no AWS credentials, or the stack no \`env\`), and if it is another one, ${fix}`,
      );
    }
  }

  private addResourcePolicy(
    secret: secretsmanager.Secret,
    writer: iam.IRole,
    readers: readonly iam.IPrincipal[],
  ): void {
    this.refuseReadersThatCannotDecrypt('readers', readers);
    secret.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'TheBotWrites',
        principals: [new iam.ArnPrincipal(writer.roleArn)],
        actions: [...SECRET_WRITE_ACTIONS],
        resources: ['*'],
      }),
    );
    if (readers.length > 0) {
      secret.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'ReadersRead',
          principals: [...readers],
          actions: [...SECRET_READ_ACTIONS],
          resources: ['*'],
        }),
      );
    }
    // Whatever other policies say, only the bot puts new values. A consumer that could write here could
    // hand every other consumer certificates of its choosing.
    secret.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyTheBotWrites',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: ['secretsmanager:PutSecretValue'],
        resources: ['*'],
        conditions: { ArnNotEquals: { 'aws:PrincipalArn': writer.roleArn } },
      }),
    );
    // Nor may anyone replace the value another way, or roll AWSCURRENT back to older certificates or
    // the placeholder. The bot never needs to; the deploys of this stack do (a new description or key).
    const deployers = deployRoleArns(secret);
    secret.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'OnlyDeploysUpdateTheSecret',
        effect: iam.Effect.DENY,
        principals: [new iam.AnyPrincipal()],
        actions: [...SECRET_REPLACE_ACTIONS],
        resources: ['*'],
        ...(deployers.length === 0
          ? {}
          : { conditions: { ArnNotEquals: { 'aws:PrincipalArn': deployers } } }),
      }),
    );
  }

  /**
   * Fires when the output's certificates have less than the renewal interval plus ten minutes to live
   * (`EXPIRY_ALARM_MARGIN`).
   * The bot reports the lifetime of what it just wrote, so the alarm watches for reports going missing:
   * missing data counts as breaching, over a window as long as the certificates can go without a fresh
   * write before crossing the threshold (and never shorter than the longest regular gap between runs,
   * so a run landing late in its flexible window is not an alarm).
   */
  private createExpiryAlarm(props: MachineIdBotOutputConstructProps): cloudwatch.Alarm {
    const period = Duration.minutes(5);
    const threshold = props.renewalInterval.plus(EXPIRY_ALARM_MARGIN);
    const untilThreshold = props.certificateTtl.toSeconds() - threshold.toSeconds();
    const longestGap = props.longestGap.plus(period).toSeconds();
    // CloudWatch looks back at most a day with periods under an hour: certificates living longer than
    // that alarm after a day without a fresh write, still well before they cross the threshold.
    const windowSeconds = Math.min(Math.max(untilThreshold, longestGap), MAX_ALARM_WINDOW.toSeconds());
    const evaluationPeriods = Math.max(1, Math.ceil(windowSeconds / period.toSeconds()));
    return new cloudwatch.Alarm(this, 'ExpiryAlarm', {
      metric: this.metricSecondsUntilExpiry({ period }),
      threshold: threshold.toSeconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods,
      datapointsToAlarm: evaluationPeriods,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      alarmDescription: `Machine ID bot "${props.botName}", output "${this.name}": the certificates expire in less than ${threshold.toHumanString()} and no fresh ones were written; see the bot's Errors alarm and log group`,
    });
  }
}

/** An output's Expiry alarm fires when its certificates have less than the renewal interval plus this left. */
export const EXPIRY_ALARM_MARGIN = Duration.millis(EXPIRY_ALARM_MARGIN_MS);

/** The longest an alarm on periods under an hour may look back (periods × evaluation periods). */
const MAX_ALARM_WINDOW = Duration.days(1);

/** The account field of a literal ARN (`arn:aws:iam::123456789012:role/app`). */
const ARN_ACCOUNT = /^arn:[^:]+:[^:]*:[^:]*:(\d{12}):/;

/**
 * The account `principal` belongs to, when synth can tell: the principal's own, or else the account
 * field of its ARN (an `ArnPrincipal`, as deployment-file readers are, reports no account itself).
 */
function accountOf(principal: iam.IPrincipal): string | undefined {
  if (principal.principalAccount !== undefined) return principal.principalAccount;
  if (!(principal instanceof iam.ArnPrincipal) || Token.isUnresolved(principal.arn)) return undefined;
  return ARN_ACCOUNT.exec(principal.arn)?.[1];
}
