import { CustomResource, Duration, Lazy, RemovalPolicy, SecretValue, Stack } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import type * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { clusterNameProblem } from '../auth/local/cluster-name.js';
import { parseDuration } from '../core/duration.js';
import { ConfigError } from '../core/errors.js';
import { SIGNATURE_SUITES, type SignatureSuiteName } from '../pki/signature-suite.js';
import { resourceNameProblem } from '../resources/metadata.js';
import { parseResources } from '../resources/parse-resources.js';
import { isReadOnlyKind, type Resource } from '../resources/resource.js';
import { findRepeatedResource } from '../resources/resource-identity.js';
import { createAuthAlarms } from './auth-alarms.js';
import { createAuthHttpApi } from './auth-http-api.js';
import { suppressAuthNagFindings } from './auth-nag-suppressions.js';
import { grantAuthServiceAccess } from './auth-service-access.js';
import {
  botJoinResources,
  type MachineIdBotRegistration,
  renderYamlDocuments,
} from './bot-join-resources.js';
import { iamTokenName } from './bot-name-rules.js';
import { invalidProps } from './invalid-props.js';
import { createMachineIdFunction, LAMBDAS_DIR } from './machine-id-function.js';
import { createResourcesProvider } from './resources-provider.js';
import { UNINITIALISED_SECRET_VALUE } from './uninitialised-secret-value.js';

export type MachineIdLogLevel = 'debug' | 'info' | 'warn' | 'error';

/** Properties of {@link MachineIdAuth}. */
export interface MachineIdAuthProps {
  /**
   * The cluster's name: in every certificate, and the audience of every IAM join (a join signed for
   * another cluster is refused). Changing it after the first deploy invalidates every bot identity.
   *
   * @default - the stack name
   */
  readonly clusterName?: string;

  /**
   * Key algorithms of the CAs and of issued certificates: `balanced` (ECDSA P-256 and Ed25519) or
   * `legacy` (RSA-2048). Read once, when the CAs are created on the first request.
   *
   * @default 'balanced'
   */
  readonly signatureSuite?: SignatureSuiteName;

  /**
   * What happens to the table (bots, instances, audit log) and the CA secret when they leave the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;

  /**
   * A customer managed key for the table and the CA secret. Its key policy must let IAM policies in
   * this account grant its use (the default key policy does); the auth role is granted exactly what
   * DynamoDB and Secrets Manager need, through those services only.
   *
   * @default - the table uses the AWS owned key and the CA secret the AWS managed key `aws/secretsmanager`
   */
  readonly kmsKey?: kms.IKey;

  /**
   * How long the auth Lambda's logs and the API access logs are kept.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Resources to create or replace, as multi-document YAML (`role`, `app`, `kube_cluster`, `node`,
   * `bot` and `iam` tokens), applied by a deploy in which they (or the bots') change: CloudFormation
   * updates the custom resource only when its rendered YAML differs, so a deploy does not undo a change
   * made with midctl (re-create with `midctl create -f <file> --force`, or change the YAML). Checked at
   * synth with the same schemas the service uses. Bots created with {@link MachineIdBot} add their own
   * `bot` and `token` here; do not list them. `token`-method tokens are refused: their name is the
   * secret, and the template is not a secret store.
   *
   * @default - no resources besides those of the bots
   */
  readonly resources?: string;

  /**
   * `MID_LOG_LEVEL` of the auth Lambda.
   *
   * @default - the service's default (info)
   */
  readonly logLevel?: MachineIdLogLevel;

  /**
   * Request rate limits of the API stage. They bound a flood of joins before it reaches the Lambda and
   * DynamoDB (each join also calls STS).
   *
   * @default - 50 requests per second, bursts of 100
   */
  readonly throttle?: apigwv2.ThrottleSettings;

  /**
   * The auth Lambda's TypeScript entry, bundled with esbuild.
   *
   * @default - `lambdas/auth.ts` of this repository
   */
  readonly entry?: string;

  /**
   * Prebuilt code for the auth Lambda instead of bundling `entry` (handler `index.handler`). Meant for
   * tests that do not need a real bundle.
   *
   * @default - `entry` bundled with esbuild
   */
  readonly code?: lambda.Code;
}

const DEFAULT_THROTTLE: apigwv2.ThrottleSettings = { rateLimit: 50, burstLimit: 100 };
const LOG_LEVELS: readonly MachineIdLogLevel[] = ['debug', 'info', 'warn', 'error'];

/**
 * The Machine ID auth service on AWS: a Lambda behind an HTTP API, its state in a DynamoDB table, its
 * CA keys in a Secrets Manager secret, and a custom resource that applies resources (roles, bots and
 * their join tokens) when a deploy changes them.
 *
 * Routes under `/v1/admin/` are authorised by AWS IAM at the API (SigV4; see {@link grantAdmin});
 * ping, join and bot routes are public at the API and authenticated by the service itself (IAM join
 * proofs, signatures made with the bot's key).
 *
 * @example
 * const auth = new MachineIdAuth(this, 'Auth', { clusterName: 'prod.example.com', resources: rolesYaml });
 * auth.grantAdmin(operatorRole);
 * new CfnOutput(this, 'AuthServer', { value: auth.apiUrl });
 */
export class MachineIdAuth extends Construct {
  /** The cluster name certificates and joins are bound to. */
  public readonly clusterName: string;

  /** The signature suite of the cluster. */
  public readonly signatureSuite: SignatureSuiteName;

  /** The service's base URL, `https://<id>.execute-api.<region>.amazonaws.com` (no trailing slash). */
  public readonly apiUrl: string;

  /** The HTTP API. */
  public readonly api: apigwv2.HttpApi;

  /** The auth Lambda. */
  public readonly function: lambda.IFunction;

  /** The auth Lambda's execution role. */
  public readonly role: iam.IRole;

  /** The table holding resources, bot instances, challenges and the audit log. */
  public readonly table: dynamodb.ITable;

  /** The secret holding the CA private keys. Only the auth role may read or write its value. */
  public readonly caSecret: secretsmanager.ISecret;

  /** The customer managed key, if one was given. */
  public readonly kmsKey?: kms.IKey;

  /** Alarms on the Lambda's errors and throttles and the API's 5xx answers; add actions to them. */
  public readonly alarms: cloudwatch.Alarm[] = [];

  /**
   * The custom resource that applies the resources. Bots depend on it, so that their first run finds
   * their join token.
   */
  public readonly resourcesApplied: CustomResource;

  private readonly userResources: string | undefined;
  private readonly userResourceNames = new Set<string>();
  /** The `max_session_ttl` of each role in `resources` that has one. */
  private readonly sessionCaps = new Map<string, Duration>();
  private readonly bots: MachineIdBotRegistration[] = [];

  constructor(scope: Construct, id: string, props: MachineIdAuthProps = {}) {
    super(scope, id);
    const stack = Stack.of(this);
    this.clusterName = props.clusterName ?? stack.stackName;
    this.signatureSuite = props.signatureSuite ?? 'balanced';
    this.validate(props);
    this.userResources = props.resources;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const logRetention = props.logRetention ?? logs.RetentionDays.ONE_MONTH;
    if (props.kmsKey !== undefined) this.kmsKey = props.kmsKey;

    const table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // Challenges, nonces and bot instances carry an expiry; DynamoDB deletes them for free.
      timeToLiveAttribute: 'ttl',
      ...(props.kmsKey === undefined
        ? {}
        : { encryption: dynamodb.TableEncryption.CUSTOMER_MANAGED, encryptionKey: props.kmsKey }),
      removalPolicy,
      // Kept past the stack, it is kept from a DeleteTable by hand too (bots, tokens, locks, audit log).
      deletionProtection: removalPolicy !== RemovalPolicy.DESTROY,
    });
    this.table = table;

    const caSecret = new secretsmanager.Secret(this, 'CaSecret', {
      description: `Machine ID cluster ${this.clusterName}: certificate authority private keys, written once by the auth service`,
      secretStringValue: SecretValue.unsafePlainText(UNINITIALISED_SECRET_VALUE),
      ...(props.kmsKey === undefined ? {} : { encryptionKey: props.kmsKey }),
      removalPolicy,
    });
    this.caSecret = caSecret;

    const auth = createMachineIdFunction(this, 'Function', {
      description: `Machine ID auth service of cluster ${this.clusterName}`,
      entry: props.entry ?? `${LAMBDAS_DIR}auth.ts`,
      code: props.code,
      memorySize: 512,
      // Well under the API's 30 s integration limit; a cold start that creates the CAs (RSA in the
      // legacy suite) is the slowest request.
      timeout: Duration.seconds(29),
      logRetention,
      environment: {
        MID_CLUSTER_NAME: this.clusterName,
        MID_SIGNATURE_SUITE: this.signatureSuite,
        MID_TABLE_NAME: table.tableName,
        MID_CA_SECRET_ID: caSecret.secretArn,
        ...(props.logLevel === undefined ? {} : { MID_LOG_LEVEL: props.logLevel }),
      },
    });
    this.function = auth.function;
    this.role = auth.role;
    grantAuthServiceAccess({
      role: auth.role,
      table,
      caSecret,
      kmsKey: props.kmsKey,
      retained: removalPolicy !== RemovalPolicy.DESTROY,
    });
    // CDK deletes a secret's resource policy with the stack even when the secret is kept
    // (aws/aws-cdk#30408): a kept CA secret would lose its denies, its keys readable by anyone whose own
    // policies allow GetSecretValue. The policy goes (or stays) with the secret, under its construct ID.
    (caSecret.node.findChild('Policy') as secretsmanager.ResourcePolicy).applyRemovalPolicy(removalPolicy);

    this.api = createAuthHttpApi(this, {
      fn: auth.function,
      throttle: props.throttle ?? DEFAULT_THROTTLE,
      logRetention,
      clusterName: this.clusterName,
    });
    this.apiUrl = this.api.apiEndpoint;
    this.resourcesApplied = this.createResourcesCustomResource(auth.function, logRetention);
    this.alarms.push(...createAuthAlarms(this, auth.function, this.api, this.clusterName));
    suppressAuthNagFindings({ role: auth.role, caSecret: this.caSecret, api: this.api });
  }

  /**
   * Lets `grantee` call the admin routes (`/v1/admin/*`): `execute-api:Invoke` on them and nothing
   * else. That is what `midctl --aws-iam` needs; whoever holds it administers the cluster.
   */
  public grantAdmin(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns: [this.api.arnForExecuteApi('*', '/v1/admin/*', '*')],
    });
  }

  /**
   * Registers a bot: its `bot` resource and `iam` join token are applied with the other resources.
   * {@link MachineIdBot} calls this; call it yourself only for a bot Lambda you build another way.
   */
  public addBot(bot: MachineIdBotRegistration): void {
    if (this.bots.some((known) => known.botName === bot.botName)) {
      throw invalidProps(
        this,
        `a bot named "${bot.botName}" is already registered with this auth; give each MachineIdBot its own botName`,
      );
    }
    for (const name of [`bot/${bot.botName}`, `token/${iamTokenName(bot.botName)}`]) {
      if (this.userResourceNames.has(name)) {
        throw invalidProps(
          this,
          `resources already define ${name}, which MachineIdBot "${bot.botName}" creates; remove it from resources`,
        );
      }
    }
    this.bots.push(bot);
  }

  /**
   * The `max_session_ttl` of role `roleName` when this construct's `resources` define it with one: no
   * certificate carrying the role lives longer. Undefined for a role without a cap or defined elsewhere
   * (with `midctl`), which synth cannot see.
   */
  public sessionCapOf(roleName: string): Duration | undefined {
    return this.sessionCaps.get(roleName);
  }

  /** Names of the registered bots, in registration order. */
  public get botNames(): string[] {
    return this.bots.map((bot) => bot.botName);
  }

  private validate(props: MachineIdAuthProps): void {
    // A name given is held to the rule `midctl auth start --cluster-name` applies (a DNS name short enough
    // for the CA names); the stack name it defaults to, to the looser rule it always had.
    const problem =
      props.clusterName === undefined
        ? resourceNameProblem(this.clusterName)
        : clusterNameProblem(this.clusterName);
    if (problem !== undefined) {
      throw invalidProps(
        this,
        `clusterName "${this.clusterName}" cannot be used: ${problem}${props.clusterName === undefined ? ' (it defaults to the stack name; set clusterName)' : ''}`,
      );
    }
    if (!SIGNATURE_SUITES.includes(this.signatureSuite)) {
      throw invalidProps(
        this,
        `signatureSuite "${String(this.signatureSuite)}" is not known; use one of ${SIGNATURE_SUITES.join(', ')}`,
      );
    }
    if (props.logLevel !== undefined && !LOG_LEVELS.includes(props.logLevel)) {
      throw invalidProps(
        this,
        `logLevel "${String(props.logLevel)}" is not known; use one of ${LOG_LEVELS.join(', ')}`,
      );
    }
    if (props.resources !== undefined) {
      for (const resource of this.checkResources(props.resources)) {
        this.userResourceNames.add(`${resource.kind}/${resource.metadata.name}`);
        const cap = resource.kind === 'role' ? resource.spec.options?.max_session_ttl : undefined;
        if (cap !== undefined)
          this.sessionCaps.set(resource.metadata.name, Duration.millis(parseDuration(cap)));
      }
    }
  }

  private checkResources(text: string): Resource[] {
    let resources: Resource[];
    try {
      resources = parseResources(text, 'resources');
    } catch (error) {
      if (error instanceof ConfigError) throw invalidProps(this, error.message);
      throw error;
    }
    for (const resource of resources) {
      if (isReadOnlyKind(resource.kind)) {
        throw invalidProps(
          this,
          `resources: ${resource.kind} resources are written by the auth service, not deployed; remove it`,
        );
      }
      if (resource.kind === 'token' && resource.spec.join_method !== 'iam') {
        throw invalidProps(
          this,
          `resources: a token with join_method ${resource.spec.join_method} is a secret and does not belong in a CloudFormation template; create it with \`midctl bots add\` or use join_method: iam`,
        );
      }
    }
    const repeated = findRepeatedResource(resources)?.resource;
    if (repeated !== undefined) {
      throw invalidProps(
        this,
        `resources: ${repeated.kind}/${repeated.metadata.name} is defined twice; keep one`,
      );
    }
    return resources;
  }

  private createResourcesCustomResource(
    fn: lambda.IFunction,
    logRetention: logs.RetentionDays,
  ): CustomResource {
    const provider = createResourcesProvider(this, { fn, logRetention, clusterName: this.clusterName });
    return new CustomResource(this, 'Resources', {
      serviceToken: provider.serviceToken,
      resourceType: 'Custom::MachineIdResources',
      properties: {
        // Rendered at synth end, after every MachineIdBot has registered.
        Resources: Lazy.string({ produce: () => this.renderResources() }),
      },
    });
  }

  /** The YAML the custom resource applies: the given resources first (roles before the bots that name them). */
  private renderResources(): string {
    const parts: string[] = [];
    const given = this.userResources?.trim();
    if (given !== undefined && given !== '') parts.push(`${given.replace(/^---\s*\n/, '')}\n`);
    const documents = this.bots.flatMap((bot) => botJoinResources(this, bot));
    if (documents.length > 0) parts.push(renderYamlDocuments(documents));
    return parts.join('---\n');
  }
}
