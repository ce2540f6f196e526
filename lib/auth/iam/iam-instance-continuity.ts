import { createHash, X509Certificate } from 'node:crypto';
import type { AuthContext } from '../auth-context.js';
import { parseBotIdentityName } from '../bot-identity-name.js';

const PREFIX = 'iam_instances/';

interface IndexEntry {
  readonly instance_id: string;
  readonly aws_arn: string;
}

/** `iam_instances/<bot>/<sha256(arn)>`: hashed because ARNs hold `/` and may be long. */
function indexKey(botName: string, awsArn: string): string {
  return `${PREFIX}${botName}/${createHash('sha256').update(awsArn).digest('hex')}`;
}

/** Records that `awsArn` joined bot `botName` as `instanceId`, for the next join of the same ARN. */
export async function rememberIamInstance(
  context: Pick<AuthContext, 'storage'>,
  botName: string,
  awsArn: string,
  instanceId: string,
): Promise<void> {
  const entry: IndexEntry = { instance_id: instanceId, aws_arn: awsArn };
  await context.storage.put({ key: indexKey(botName, awsArn), value: JSON.stringify(entry) });
}

/**
 * The instance an IAM join continues. One instance per bot and validated ARN (the full assumed-role
 * ARN, session name included): a Lambda that joins again every run keeps one instance with a growing
 * history, while every ECS task or EC2 role session (each its own session name) is an instance of its own.
 *
 * A bot that still holds a valid bot certificate of this cluster may present it; it is followed only
 * when it names this bot and an instance that belongs to the very same ARN, so presenting someone
 * else's certificate gains nothing.
 */
export async function findContinuedInstance(
  context: AuthContext,
  botName: string,
  awsArn: string,
  previousCertificatePem: string | undefined,
): Promise<string | undefined> {
  const fromCertificate =
    previousCertificatePem === undefined
      ? undefined
      : await instanceOfCertificate(context, botName, awsArn, previousCertificatePem);
  if (fromCertificate !== undefined) return fromCertificate;
  const item = await context.storage.get(indexKey(botName, awsArn));
  if (item === undefined) return undefined;
  const entry = JSON.parse(item.value) as IndexEntry;
  return entry.aws_arn === awsArn ? entry.instance_id : undefined;
}

async function instanceOfCertificate(
  context: AuthContext,
  botName: string,
  awsArn: string,
  pem: string,
): Promise<string | undefined> {
  const instanceId = certifiedInstance(context, botName, pem);
  if (instanceId === undefined) return undefined;
  const instance = await context.instances.get(botName, instanceId);
  if (instance?.record.join_method !== 'iam' || instance.record.aws_arn !== awsArn) return undefined;
  return instanceId;
}

/** The instance a valid, current bot certificate of this cluster and bot names; undefined otherwise. */
function certifiedInstance(context: AuthContext, botName: string, pem: string): string | undefined {
  try {
    const certificate = new X509Certificate(pem);
    const ca = new X509Certificate(context.cas.tlsUser.certificatePem);
    if (!certificate.checkIssued(ca) || !certificate.verify(ca.publicKey)) return undefined;
    const now = context.clock.now();
    if (Date.parse(certificate.validFrom) > now || Date.parse(certificate.validTo) <= now) return undefined;
    const name = parseBotIdentityName(certificate.subjectAltName);
    return name.clusterName === context.clusterName && name.botName === botName ? name.instanceId : undefined;
  } catch {
    // A certificate that cannot be read only means there is nothing to continue: the join goes on.
    return undefined;
  }
}
