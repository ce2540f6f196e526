import { SECRET_ARN } from '../destinations/secret-value.js';

/**
 * What an `aws_secrets_manager` destination's `name` points at, as far as the config can tell: a name
 * and the region and account when known. A secret may be named by its name or by its ARN, whose name
 * part ends in the 6 characters Secrets Manager adds (`…:secret:machine-id/ci/ssh-AbC123`), or not (a
 * partial ARN). Two outputs naming one secret two ways would overwrite each other on every run.
 */
export interface SecretReference {
  /** The names it may stand for: an ARN's name part, and the same without a random suffix. */
  readonly names: readonly string[];
  readonly region?: string;
  readonly account?: string;
}

/** The random suffix Secrets Manager puts at the end of a secret's ARN. */
const ARN_SUFFIX = /-[A-Za-z0-9]{6}$/;

/** The region of a secret named by its ARN, or undefined for a name: the region to call it in. */
export function regionOfSecretArn(name: string): string | undefined {
  return SECRET_ARN.test(name) ? name.split(':')[3] : undefined;
}

export function secretReference(name: string, region: string | undefined): SecretReference {
  if (!SECRET_ARN.test(name)) return { names: [name], ...(region === undefined ? {} : { region }) };
  // arn:<partition>:secretsmanager:<region>:<account>:secret:<name>
  const [, , , arnRegion, account, , ...rest] = name.split(':');
  const tail = rest.join(':');
  const names = ARN_SUFFIX.test(tail) ? [tail, tail.replace(ARN_SUFFIX, '')] : [tail];
  return {
    names,
    ...(arnRegion === undefined ? {} : { region: arnRegion }),
    ...(account === undefined ? {} : { account }),
  };
}

/**
 * Whether two references may be the same secret. A region or account the config leaves open (a name
 * with no `region:` uses the bot's own) is taken as possibly the same, so that a real clash is never
 * let through; `region:` on the name tells them apart.
 */
export function maySameSecret(a: SecretReference, b: SecretReference): boolean {
  if (a.region !== undefined && b.region !== undefined && a.region !== b.region) return false;
  if (a.account !== undefined && b.account !== undefined && a.account !== b.account) return false;
  return a.names.some((name) => b.names.includes(name));
}
