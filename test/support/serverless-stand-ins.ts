import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createDynamoDbTable } from '../../lib/auth/storage/dynamodb-table.js';
import { type RunningDynalite, startDynalite } from './dynalite.js';
import {
  type HttpApiHandler,
  type IamAuthoriser,
  type LambdaHttpAdapter,
  startLambdaHttpAdapter,
} from './lambda-http-adapter.js';
import type { OpensslCa } from './openssl-ca.js';
import { type SecretsManagerEmulator, startSecretsManagerEmulator } from './secrets-manager-emulator.js';
import { type StsEmulator, type StsIdentity, startStsEmulator } from './sts-emulator.js';

export interface ServerlessStandInsOptions {
  readonly region: string;
  readonly account: string;
  readonly clusterName: string;
  /** The bot Lambda's name (`AWS_LAMBDA_FUNCTION_NAME`, its instance's hostname). */
  readonly functionName: string;
  /** The bot Lambda role's session: its keys are the process's, STS knows it by its ARN. */
  readonly bot: StsIdentity & { readonly sessionToken: string };
}

/** The AWS side of the serverless shape on loopback, as both Lambda handlers see it. */
export interface ServerlessStandIns {
  readonly dynalite: RunningDynalite;
  readonly secrets: SecretsManagerEmulator;
  readonly sts: StsEmulator;
  readonly tableName: string;
  /**
   * What the Lambdas would find in their environment, pointing at the stand-ins: the region, the bot
   * role's keys, the AWS endpoints and the auth Lambda's settings. Set it on `process.env` before the
   * handlers' first invocation (`MID_BOT_CONFIG` is the caller's: it names the API Gateway stand-in).
   */
  readonly environment: Readonly<Record<string, string>>;
  stop(): Promise<void>;
}

const TABLE = 'machine-id-state';

/**
 * DynamoDB (dynalite, with the auth Lambda's table), Secrets Manager and STS emulators for a test or a
 * bench that runs the real auth and bot Lambda handlers in one process. The emulators accept the bot's
 * keys; STS answers for its session.
 */
export async function startServerlessStandIns(
  options: ServerlessStandInsOptions,
): Promise<ServerlessStandIns> {
  const stops: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const stopOne of stops.splice(0).reverse()) await stopOne();
  };
  try {
    const dynalite = await startDynalite();
    stops.push(() => dynalite.stop());
    const secrets = await startSecretsManagerEmulator({
      acceptAnyCredentials: true,
      region: options.region,
      accountId: options.account,
    });
    stops.push(() => secrets.stop());
    const sts = await startStsEmulator({ identities: [options.bot] });
    stops.push(() => sts.stop());
    const keys = {
      accessKeyId: options.bot.accessKeyId,
      secretAccessKey: options.bot.secretAccessKey,
      sessionToken: options.bot.sessionToken,
    };
    const dynamodb = new DynamoDBClient({
      endpoint: dynalite.endpoint,
      region: options.region,
      credentials: keys,
    });
    try {
      await createDynamoDbTable(dynamodb, TABLE);
    } finally {
      dynamodb.destroy();
    }
    return {
      dynalite,
      secrets,
      sts,
      tableName: TABLE,
      environment: {
        AWS_REGION: options.region,
        AWS_ACCESS_KEY_ID: keys.accessKeyId,
        AWS_SECRET_ACCESS_KEY: keys.secretAccessKey,
        AWS_SESSION_TOKEN: keys.sessionToken,
        AWS_EC2_METADATA_DISABLED: 'true',
        AWS_ENDPOINT_URL_DYNAMODB: dynalite.endpoint,
        AWS_ENDPOINT_URL_SECRETS_MANAGER: secrets.url,
        MID_CLUSTER_NAME: options.clusterName,
        MID_TABLE_NAME: TABLE,
        MID_CA_SECRET_ID: 'machine-id/ca',
        MID_INSECURE_STS_ENDPOINT_FOR_TESTS: sts.url,
        AWS_LAMBDA_FUNCTION_NAME: options.functionName,
      },
      stop,
    };
  } catch (error) {
    await stop();
    throw error;
  }
}

/**
 * The API Gateway stand-in in front of the auth Lambda handler, serving a fresh certificate of `ca` for
 * 127.0.0.1 with the CA in its chain (the agent checks the CA the service presents against `ca_path`).
 * `port` starts it again where it was, for a test that takes the service down and brings it back;
 * `iamAuthoriser` guards the admin routes with SigV4 as the deployed API does; `functionTimeoutMs`
 * stands for the function's timeout (29 s).
 */
export async function startApiGatewayStandIn(
  ca: OpensslCa,
  handler: HttpApiHandler,
  options: { port?: number; iamAuthoriser?: IamAuthoriser; functionTimeoutMs?: number } = {},
): Promise<LambdaHttpAdapter> {
  const serving = await ca.issue({ commonName: '127.0.0.1', usage: 'server', ipAddresses: ['127.0.0.1'] });
  return startLambdaHttpAdapter({
    handler,
    certPem: serving.certPem + ca.certPem,
    keyPem: serving.keyPem,
    ...options,
  });
}
