import type { AwsPartition } from './sts-host-allowlist.js';

/** The kinds of principal GetCallerIdentity can name. */
export type AwsPrincipalType = 'assumed-role' | 'user' | 'federated-user' | 'root' | 'other';

/** An ARN that GetCallerIdentity returned, split into the parts the join checks. */
export interface AwsPrincipal {
  readonly arn: string;
  readonly partition: AwsPartition;
  readonly account: string;
  readonly type: AwsPrincipalType;
  /** For `assumed-role`: the role name and the session name (chosen by whoever assumed the role). */
  readonly roleName?: string;
  readonly sessionName?: string;
}

/**
 * Principals that may join: role sessions (Lambda, ECS, EC2, CI with OIDC) and IAM users. Federated
 * users (GetFederationToken) are refused: their name is whatever the federating user chose, so an ARN
 * rule cannot pin them down. The account root is refused: no workload should run as root.
 */
export const ALLOWED_PRINCIPAL_TYPES: ReadonlySet<AwsPrincipalType> = new Set(['assumed-role', 'user']);

const ARN = /^arn:(aws|aws-cn|aws-us-gov):(iam|sts)::(\d{12}):([\x21-\x7e]{1,1900})$/;
/** IAM's character set for role, user, path and session names. */
const IAM_NAME = '[A-Za-z0-9+=,.@_-]';
const ASSUMED_ROLE = new RegExp(`^assumed-role/(${IAM_NAME}{1,64})/(${IAM_NAME}{2,64})$`);
const USER = new RegExp(`^user/(?:${IAM_NAME}{1,512}/)*${IAM_NAME}{1,64}$`);
const FEDERATED_USER = new RegExp(`^federated-user/${IAM_NAME}{2,64}$`);

/** Parses an ARN from STS; `undefined` when it is not a well-formed IAM or STS ARN at all. */
export function parseAwsPrincipal(arn: string): AwsPrincipal | undefined {
  const match = ARN.exec(arn);
  if (match === null) return undefined;
  const [, partition, service, account, resource] = match as unknown as [
    string,
    AwsPartition,
    string,
    string,
    string,
  ];
  const base = { arn, partition, account };
  if (service === 'sts') {
    const role = ASSUMED_ROLE.exec(resource);
    if (role !== null) {
      return { ...base, type: 'assumed-role', roleName: role[1] as string, sessionName: role[2] as string };
    }
    if (FEDERATED_USER.test(resource)) return { ...base, type: 'federated-user' };
    return { ...base, type: 'other' };
  }
  if (resource === 'root') return { ...base, type: 'root' };
  if (USER.test(resource)) return { ...base, type: 'user' };
  return { ...base, type: 'other' };
}
