import { Annotations, type Stack, Token, TokenComparison } from 'aws-cdk-lib';
import { ConfigError } from '../core/errors.js';
import type { DeploymentBot } from './deployment.js';
import { READER_ACCOUNT_UNCHECKED } from './machine-id-bot-output.js';

/**
 * Checks the deployment file's `readers:` against the account the stack deploys to, when the secrets
 * are under the AWS managed key (no `kms_key_arn`), which cannot be shared: a reader in another account
 * would be let in by the resource policy and still fail at every read. The construct refuses the same
 * readers, but in its own words (a construct path, `readers:`); here the file's words name the field and
 * its line. An environment-agnostic stack learns its account only at deploy: there, readers in two
 * accounts are refused (one of them is foreign), and one account is warned of once, at its first reader.
 *
 * @param where names a path of the file as refusals do: `deploy/prod.yaml: bots[0].readers[1] (line 30)`.
 * @throws ConfigError `invalid_deployment` naming the reader, the accounts and the fix.
 */
export function checkReaderAccounts(
  stack: Stack,
  bots: readonly DeploymentBot[],
  where: (path: readonly PropertyKey[]) => string,
): void {
  const fix = (account: string) =>
    `a secret under the AWS managed key cannot be read from another account; set kms_key_arn to a customer managed key whose key policy grants ${account} kms:Decrypt, or remove the reader`;
  let first: { readonly at: string; readonly arn: string; readonly account: string } | undefined;
  bots.forEach((bot, botIndex) => {
    (bot.readers ?? []).forEach((arn, index) => {
      // arn:<partition>:iam::<account>:role/<name>, as the schema holds it to.
      const account = arn.split(':')[4] ?? '';
      const at = where(['bots', botIndex, 'readers', index]);
      if (Token.compareStrings(stack.account, account) === TokenComparison.DIFFERENT) {
        throw new ConfigError(
          'invalid_deployment',
          `${at}: ${arn} is in account ${account}, not the stack's ${stack.account}, and ${fix(`account ${account}`)}`,
        );
      }
      if (!Token.isUnresolved(stack.account)) return;
      if (first !== undefined && first.account !== account) {
        throw new ConfigError(
          'invalid_deployment',
          `${at}: ${arn} (account ${account}) and ${first.arn} (account ${first.account}, ${first.at}) cannot both be in the stack's account, and ${fix("the foreign reader's account")}`,
        );
      }
      first ??= { at, arn, account };
    });
  });
  if (first === undefined) return;
  Annotations.of(stack).addWarningV2(
    READER_ACCOUNT_UNCHECKED,
    `${first.at}: ${first.arn} is in account ${first.account}; the stack's account is not known at synth (an environment-agnostic stack: the CDK CLI had no AWS credentials, or the stack no \`env\`), and if it is another one, ${fix(`account ${first.account}`)}`,
  );
}
