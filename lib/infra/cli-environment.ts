import type { Environment } from 'aws-cdk-lib';

/**
 * The account and region the CDK CLI will deploy to, as it tells the app (`CDK_DEFAULT_ACCOUNT`,
 * `CDK_DEFAULT_REGION`: from the credentials and profile in use), or undefined when it cannot tell
 * (a synth with no credentials). With them the stack is environment-aware, so that what depends on
 * the account or region (a `kms_key_arn` of another region, readers in another account) is refused at
 * synth rather than only warned of; without them the stack stays environment-agnostic.
 */
export function cliEnvironment(env: NodeJS.ProcessEnv = process.env): Environment | undefined {
  const account = env['CDK_DEFAULT_ACCOUNT'];
  const region = env['CDK_DEFAULT_REGION'];
  if (account === undefined || account === '' || region === undefined || region === '') return undefined;
  return { account, region };
}
