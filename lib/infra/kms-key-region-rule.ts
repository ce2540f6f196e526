import { Token, TokenComparison } from 'aws-cdk-lib';

/**
 * The rule that a customer managed key be of the stack's region, written once for the deployment
 * file's `kms_key_arn` and the `MachineIdBot` construct's `kmsKey`, each told in the reader's words. A
 * KMS key is used only in its own region, so whatever names a key of another region fails the deploy,
 * after the resources before it were created. Caught at synth when the stack's region is known; an
 * environment-agnostic stack learns its region only at deploy, so there the region the key needs is
 * told as a warning.
 */

/** The warning of a key whose region synth cannot compare with the stack's, for acknowledgement. */
export const KMS_KEY_REGION_UNCHECKED = 'machine-id:kms-key-region-unchecked';

/** How a reader is told of its key. */
export interface KmsKeyRegionWords {
  /** The key as the reader gave it: `got "arn:aws:kms:…"`. */
  readonly key: string;
  /** What names the key and would fail: `the table, the CA secret and the output secrets`. */
  readonly users: string;
  /** How to give a key of the region deployed to instead. */
  readonly useAnotherKey: string;
}

/** A key of another region is refused; one synth cannot judge is warned of. */
export type KmsKeyRegionProblem =
  | { readonly refusal: string; readonly warning?: never }
  | { readonly warning: string; readonly refusal?: never };

/**
 * What is wrong with a key in `keyRegion` for a stack in `stackRegion` (either may be a token), or
 * undefined when the regions are one, or when the key's region is a token too (a key of this stack or
 * of another environment-agnostic one: nothing synth could tell).
 */
export function kmsKeyRegionProblem(
  stackRegion: string,
  keyRegion: string,
  words: KmsKeyRegionWords,
): KmsKeyRegionProblem | undefined {
  const comparison = Token.compareStrings(stackRegion, keyRegion);
  if (comparison === TokenComparison.DIFFERENT) {
    return {
      refusal: `${words.key}, a key in ${keyRegion}, but the stack deploys to ${stackRegion}; a KMS key is used only in its own region, so ${words.users} could not use it and the deploy would fail; ${words.useAnotherKey}, or deploy to ${keyRegion}`,
    };
  }
  if (comparison === TokenComparison.SAME || Token.isUnresolved(keyRegion)) return undefined;
  return {
    warning: `the key is in ${keyRegion}; the stack's region is not known at synth (an environment-agnostic stack: the CDK CLI had no AWS credentials, or the stack no \`env\`), and if it is another one, the deploy fails, as a KMS key is used only in its own region; deploy to ${keyRegion}, or ${words.useAnotherKey}`,
  };
}
