import { Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';

/** The principal as an operator wrote it: its ARN for an ARN principal, CDK's description otherwise. */
export function describePrincipal(principal: iam.IPrincipal): string {
  return principal instanceof iam.ArnPrincipal && !Token.isUnresolved(principal.arn)
    ? principal.arn
    : principal.toString();
}
