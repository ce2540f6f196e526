import { fileURLToPath } from 'node:url';
import type { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { NagSuppressions } from 'cdk-nag';
import type { Construct } from 'constructs';

/**
 * The Lambda runtime of every function the constructs deploy. Node 22 is the oldest runtime AWS still
 * supports for new functions (nodejs20.x is deprecated); the code itself needs Node 20.18+.
 */
export const MACHINE_ID_RUNTIME = lambda.Runtime.NODEJS_22_X;

/** Graviton: the same code, about 20% cheaper per GB-second than x86_64. */
export const MACHINE_ID_ARCHITECTURE = lambda.Architecture.ARM_64;

/** The repository's `lambdas/` folder, found from this file so that `cdk synth` works from any folder. */
export const LAMBDAS_DIR = fileURLToPath(new URL('../../lambdas/', import.meta.url));

/** Where the lock file is: esbuild resolves `node_modules` from here. */
const PROJECT_ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Options for {@link createMachineIdFunction}. */
export interface MachineIdFunctionOptions {
  /** Shown in the console. */
  readonly description: string;
  /** Absolute path of the TypeScript handler, bundled with esbuild when `code` is not given. */
  readonly entry: string;
  /** Prebuilt code instead of bundling `entry` (tests use inline code to skip esbuild). */
  readonly code?: lambda.Code | undefined;
  /** Environment variables (the constructs' `MID_*` settings). */
  readonly environment: Record<string, string>;
  /** Memory in MB (CPU scales with it). */
  readonly memorySize: number;
  /** Longest run. */
  readonly timeout: Duration;
  /** How long the function's log group keeps its logs. */
  readonly logRetention: logs.RetentionDays;
  /** @default no reservation */
  readonly reservedConcurrentExecutions?: number | undefined;
}

/** A function with its own role and log group, both least-privilege and owned by the caller. */
export interface MachineIdFunction {
  /** The function. */
  readonly function: lambda.Function;
  /** Its execution role: logs only, until the caller grants more. */
  readonly role: iam.Role;
  /** Its log group. */
  readonly logGroup: logs.LogGroup;
}

/**
 * Builds a Lambda the way every Machine ID function is built: Node 22 on ARM64, bundled locally by
 * esbuild (never Docker, so `cdk synth` works on a machine without it), an explicit log group with a
 * retention, and a role of its own that starts empty. The AWS managed basic-execution policy is not
 * attached: its `logs:*` statements cover every log group in the account, while this role may write
 * only to its own group.
 */
export function createMachineIdFunction(
  scope: Construct,
  id: string,
  options: MachineIdFunctionOptions,
): MachineIdFunction {
  const role = new iam.Role(scope, `${id}Role`, {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: `Execution role of: ${options.description}`,
  });
  const logGroup = new logs.LogGroup(scope, `${id}Logs`, { retention: options.logRetention });
  logGroup.grantWrite(role);

  const bundled = options.code === undefined;
  const fn = new NodejsFunction(scope, id, {
    description: options.description,
    runtime: MACHINE_ID_RUNTIME,
    architecture: MACHINE_ID_ARCHITECTURE,
    memorySize: options.memorySize,
    timeout: options.timeout,
    role,
    logGroup,
    environment: {
      ...options.environment,
      // Stack traces point into the TypeScript sources instead of minified bundle lines.
      ...(bundled ? { NODE_OPTIONS: '--enable-source-maps' } : {}),
    },
    ...(options.reservedConcurrentExecutions === undefined
      ? {}
      : { reservedConcurrentExecutions: options.reservedConcurrentExecutions }),
    ...(bundled
      ? {
          entry: options.entry,
          handler: 'handler',
          projectRoot: PROJECT_ROOT,
          depsLockFilePath: `${PROJECT_ROOT}package-lock.json`,
          bundling: {
            forceDockerBundling: false,
            format: OutputFormat.ESM,
            target: 'node22',
            mainFields: ['module', 'main'],
            // Native modules cannot be bundled, and the Lambda path never loads SQLite (it uses
            // DynamoDB). Listing only these also bundles the AWS SDK: the versions in package-lock.json
            // are the ones the tests ran against, not whatever the runtime happens to ship.
            externalModules: ['better-sqlite3'],
            minify: true,
            sourceMap: true,
            sourcesContent: false,
            // Some bundled CommonJS dependencies call require() for Node built-ins; an ESM bundle has
            // no require of its own.
            banner:
              "import { createRequire as __midCreateRequire } from 'node:module'; const require = __midCreateRequire(import.meta.url);",
          },
        }
      : { code: options.code, handler: 'index.handler' }),
  });
  NagSuppressions.addResourceSuppressions(fn, [
    {
      id: 'AwsSolutions-L1',
      reason:
        'The runtime is pinned to Node.js 22 (supported by AWS until 2027) and raised deliberately after testing, not whenever aws-cdk-lib learns of a newer one',
    },
  ]);
  return { function: fn, role, logGroup };
}
