import { createHash } from 'node:crypto';
import type { AuthContext } from '../auth-context.js';
import { verifyBotCertificate } from '../bot-certificate.js';
import type { BotInstanceRecord, StoredInstance } from '../bot-instance-store.js';

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
 * The bot and instance a presented bot certificate names, for {@link findContinuedInstance}: undefined
 * unless it is a valid, current bot certificate of this cluster. No I/O, so that the join can read the
 * instance along with the token and the challenge, before STS has said whose the request is; the join
 * follows it only for the token's own bot.
 */
export function certifiedInstance(
  context: AuthContext,
  pem: string | undefined,
): { readonly botName: string; readonly instanceId: string } | undefined {
  if (pem === undefined) return undefined;
  try {
    const name = verifyBotCertificate(pem, context.cas.tlsUser, context.clock).identity;
    return name.clusterName === context.clusterName
      ? { botName: name.botName, instanceId: name.instanceId }
      : undefined;
  } catch {
    // A certificate that cannot be read only means there is nothing to continue: the join goes on.
    return undefined;
  }
}

/**
 * The instance an IAM join continues, with the revision it was read at. One instance per bot and
 * validated ARN (the full assumed-role ARN, session name included): a Lambda that joins again every run
 * keeps one instance with a growing history, while every ECS task or EC2 role session (each its own
 * session name) is an instance of its own.
 *
 * `presented` is the instance a presented bot certificate names (see {@link certifiedInstance}), as
 * read; it is followed only when it belongs to the very same ARN, so presenting someone else's
 * certificate gains nothing. Otherwise the ARN's index entry is, under the same condition.
 */
export async function findContinuedInstance(
  context: AuthContext,
  botName: string,
  awsArn: string,
  presented: StoredInstance | undefined,
): Promise<StoredInstance | undefined> {
  if (presented !== undefined && belongsTo(presented.record, awsArn)) return presented;
  const item = await context.storage.get(indexKey(botName, awsArn));
  if (item === undefined) return undefined;
  const entry = JSON.parse(item.value) as IndexEntry;
  if (entry.aws_arn !== awsArn) return undefined;
  const indexed = await context.instances.get(botName, entry.instance_id);
  return indexed !== undefined && belongsTo(indexed.record, awsArn) ? indexed : undefined;
}

function belongsTo(record: BotInstanceRecord, awsArn: string): boolean {
  return record.join_method === 'iam' && record.aws_arn === awsArn;
}
