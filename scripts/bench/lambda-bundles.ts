import { join } from 'node:path';
import { type BuildOptions, build, type Metafile } from 'esbuild';

/**
 * What CDK's `NodejsFunction` runs for our Lambdas (the bundling options of
 * `lib/infra/machine-id-function.ts`, minus the source map, which is a separate file): one minified ESM
 * file for Node 22 with the AWS SDK v3 inside. Unlike the construct, `better-sqlite3` is not external
 * here, so that an import chain reaching it shows up below instead of failing only in Lambda. ESM
 * needs the `createRequire` banner: the SDK and node-forge are CommonJS, and esbuild turns their
 * `require('node:http')` into a call that throws without a real `require` in scope (at the first
 * invocation, not at import).
 */
export const LAMBDA_BUNDLE_OPTIONS = {
  bundle: true,
  platform: 'node',
  target: 'node22',
  minify: true,
  format: 'esm',
  mainFields: ['module', 'main'],
  banner: {
    js: "import { createRequire as __midCreateRequire } from 'node:module'; const require = __midCreateRequire(import.meta.url);",
  },
  metafile: true,
  logLevel: 'warning',
} satisfies BuildOptions;

export const LAMBDAS = ['auth', 'bot'] as const;
export type LambdaName = (typeof LAMBDAS)[number];

/**
 * The same SDK clients each Lambda uses and nothing else, built the same way: the size and cold start
 * any Lambda of ours would pay. The bot's includes `@aws-crypto/sha256-js`, the hash it gives
 * SignatureV4. The clients are constructed in an exported function, not at import, like the handlers,
 * which build theirs on the first invocation.
 */
const SDK_ONLY: Record<LambdaName, string> = {
  auth: `
    import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
    import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
    export const clients = () => [new DynamoDBClient({}), new SecretsManagerClient({})];
  `,
  bot: `
    import { Sha256 } from '@aws-crypto/sha256-js';
    import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
    import { defaultProvider } from '@aws-sdk/credential-provider-node';
    import { SignatureV4 } from '@smithy/signature-v4';
    export const clients = () => [
      new SecretsManagerClient({}),
      new SignatureV4({ credentials: defaultProvider(), region: 'us-east-1', service: 'sts', sha256: Sha256 }),
    ];
  `,
};

export interface BundleInput {
  readonly path: string;
  readonly bytes: number;
}

export interface LambdaBundle {
  readonly name: LambdaName;
  readonly file: string;
  readonly bytes: number;
  readonly baselineFile: string;
  readonly baselineBytes: number;
  /** Inputs by bytes in the output, largest first. */
  readonly inputs: readonly BundleInput[];
  /** Bytes in the output per npm package (`lib/…` folders for our own code), largest first. */
  readonly packages: readonly BundleInput[];
  /** Bytes in the output per folder, largest first: shows which part of a package is pulled in. */
  readonly folders: readonly BundleInput[];
  /** Inputs that are native addons or that load one; must be empty. */
  readonly native: readonly string[];
}

/** Bundles both Lambdas and their SDK-only baselines into `outDir` (`auth.mjs`, `auth-sdk-only.mjs`, …). */
export async function bundleLambdas(root: string, outDir: string): Promise<LambdaBundle[]> {
  const bundles: LambdaBundle[] = [];
  for (const name of LAMBDAS) {
    const file = join(outDir, `${name}.mjs`);
    const baselineFile = join(outDir, `${name}-sdk-only.mjs`);
    const lambda = await build({
      ...LAMBDA_BUNDLE_OPTIONS,
      entryPoints: [join(root, 'lambdas', `${name}.ts`)],
      outfile: file,
      absWorkingDir: root,
    });
    const baseline = await build({
      ...LAMBDA_BUNDLE_OPTIONS,
      stdin: { contents: SDK_ONLY[name], resolveDir: root, loader: 'ts', sourcefile: `${name}-sdk-only.ts` },
      outfile: baselineFile,
      absWorkingDir: root,
    });
    const inputs = outputInputs(lambda.metafile);
    bundles.push({
      name,
      file,
      bytes: outputBytes(lambda.metafile),
      baselineFile,
      baselineBytes: outputBytes(baseline.metafile),
      inputs,
      packages: grouped(inputs, packageOf),
      folders: grouped(inputs, (path) => path.slice(0, path.lastIndexOf('/'))),
      native: inputs
        .map((input) => input.path)
        .filter((path) => /better-sqlite3|bindings|node-gyp-build|\.node$/.test(path)),
    });
  }
  return bundles;
}

function outputBytes(metafile: Metafile): number {
  return Object.values(metafile.outputs).reduce((sum, output) => sum + output.bytes, 0);
}

function outputInputs(metafile: Metafile): BundleInput[] {
  return Object.values(metafile.outputs)
    .flatMap((output) =>
      Object.entries(output.inputs).map(([path, input]) => ({ path, bytes: input.bytesInOutput })),
    )
    .sort((a, b) => b.bytes - a.bytes);
}

function packageOf(path: string): string {
  return /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path)?.[1] ?? path.split('/').slice(0, 2).join('/');
}

function grouped(inputs: readonly BundleInput[], group: (path: string) => string): BundleInput[] {
  const totals = new Map<string, number>();
  for (const input of inputs) {
    const key = group(input.path);
    totals.set(key, (totals.get(key) ?? 0) + input.bytes);
  }
  return [...totals].map(([path, bytes]) => ({ path, bytes })).sort((a, b) => b.bytes - a.bytes);
}
