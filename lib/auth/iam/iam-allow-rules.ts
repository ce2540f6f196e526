import type { Token } from '../../resources/token.js';
import { matchArnGlob } from './arn-glob.js';
import { ALLOWED_PRINCIPAL_TYPES } from './aws-principal.js';
import { IamJoinError } from './iam-join-error.js';
import type { AwsIdentity } from './sts-answer.js';

const IAM_ROLE_ARN = /^arn:[a-z-]+:iam::\d{12}:role\//;

/**
 * Authorises the identity STS vouched for against the token's `allow` rules (SECURITY rule 6): the
 * principal type first, then `aws_account` by exact string comparison and `aws_arn` by
 * {@link matchArnGlob}. A rule allows the identity when both of its fields match.
 */
export function authorizeAwsIdentity(token: Token, identity: AwsIdentity): void {
  const { principal } = identity;
  const awsArn = principal.arn;
  if (!ALLOWED_PRINCIPAL_TYPES.has(principal.type)) {
    throw new IamJoinError(
      'principal_type_not_allowed',
      `${principal.type === 'other' ? 'this kind of principal' : `a ${principal.type} principal`} cannot join; use a role session (assumed-role) or an IAM user`,
      { awsArn },
    );
  }
  const rules = token.spec.allow ?? [];
  const inAccount = rules.filter((rule) => rule.aws_account === principal.account);
  if (inAccount.length === 0) {
    throw new IamJoinError(
      'aws_account_not_allowed',
      `AWS account ${principal.account} is not allowed by token "${token.metadata.name}"; add it to spec.allow`,
      { awsArn },
    );
  }
  const byArn = inAccount.filter((rule) => rule.aws_arn === undefined || matchArnGlob(rule.aws_arn, awsArn));
  // STS's UserId of a role session is `<role unique id>:<session name>`.
  const roleId = identity.userId.includes(':')
    ? identity.userId.slice(0, identity.userId.indexOf(':'))
    : undefined;
  if (byArn.some((rule) => rule.aws_role_id === undefined || rule.aws_role_id === roleId)) return;
  if (byArn.length > 0) {
    throw new IamJoinError(
      'aws_role_id_mismatch',
      `${awsArn} matches token "${token.metadata.name}", but its role's unique id is not the pinned aws_role_id: the role was deleted and re-created, or is another role of that name; update aws_role_id if this is intended`,
      { awsArn },
    );
  }
  // A common slip: an IAM role ARN never equals the ARN of a session of that role.
  const hint = inAccount.some((rule) => rule.aws_arn !== undefined && IAM_ROLE_ARN.test(rule.aws_arn))
    ? '; note that a rule naming arn:aws:iam::ACCOUNT:role/NAME never matches, write arn:aws:sts::ACCOUNT:assumed-role/NAME/*'
    : '';
  throw new IamJoinError(
    'aws_arn_not_allowed',
    `${awsArn} matches no aws_arn of token "${token.metadata.name}" for account ${principal.account}${hint}`,
    { awsArn },
  );
}
