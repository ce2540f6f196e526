import {
  GetSecretValueCommand,
  ListSecretVersionIdsCommand,
  type SecretsManagerClient,
  type SecretVersionsListEntry,
} from '@aws-sdk/client-secrets-manager';

/** An earlier version of the CA secret that holds CAs. */
export interface EarlierCas {
  readonly versionId: string;
  /** Its staging labels; none when it has been pushed out of AWSPREVIOUS too. */
  readonly stages: readonly string[];
}

/** The most earlier versions read, newest first, looking for CAs: the secret has a handful. */
const MAX_VERSIONS_READ = 20;

/**
 * The newest version of the CA secret other than `currentVersionId` (the placeholder just read) and
 * other than whatever is AWSCURRENT now, whose value `holdsCas`, or undefined. Versions without a staging label count too: a second placeholder put over a first one
 * moves AWSPREVIOUS off the CAs, but their version stays (Secrets Manager removes unlabelled versions
 * only beyond 100 versions, and only those older than a day), and can be made current again.
 *
 * Costs one `ListSecretVersionIds` per 100 versions, plus one `GetSecretValue` per earlier version read: only while the
 * secret holds a placeholder, and a new stack's secret has no earlier version.
 *
 * @param failed turns an SDK error into the caller's error, given the operation that failed.
 */
export async function findEarlierCas(
  client: SecretsManagerClient,
  secretId: string,
  currentVersionId: string | undefined,
  holdsCas: (secretString: string | undefined) => boolean,
  failed: (error: unknown, operation: string) => Error,
): Promise<EarlierCas | undefined> {
  const versions = await listVersions(client, secretId).catch((error: unknown) => {
    throw failed(error, 'ListSecretVersionIds');
  });
  // A version that is AWSCURRENT by now was written after the placeholder was read: a first start
  // racing this one won, which the caller finds when it reads the secret again. It was not pushed aside.
  const earlier = versions
    .filter(
      (version) =>
        version.VersionId !== undefined &&
        version.VersionId !== currentVersionId &&
        !(version.VersionStages ?? []).includes('AWSCURRENT'),
    )
    .sort((a, b) => (b.CreatedDate?.getTime() ?? 0) - (a.CreatedDate?.getTime() ?? 0))
    .slice(0, MAX_VERSIONS_READ);
  for (const version of earlier) {
    const versionId = version.VersionId as string;
    let secretString: string | undefined;
    try {
      const output = await client.send(
        new GetSecretValueCommand({ SecretId: secretId, VersionId: versionId }),
      );
      secretString = output.SecretString;
    } catch (error) {
      // Removed between the listing and the read: nothing to lose there.
      if (error instanceof Error && error.name === 'ResourceNotFoundException') continue;
      throw failed(error, 'GetSecretValue');
    }
    if (holdsCas(secretString)) return { versionId, stages: version.VersionStages ?? [] };
  }
  return undefined;
}

/** The most pages of versions read: the secret has a handful of versions, Secrets Manager keeps ~100. */
const MAX_PAGES = 5;

/** Every version of the secret, labelled or not, in no particular order (the API promises none). */
async function listVersions(
  client: SecretsManagerClient,
  secretId: string,
): Promise<SecretVersionsListEntry[]> {
  const versions: SecretVersionsListEntry[] = [];
  let nextToken: string | undefined;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const listed = await client.send(
      new ListSecretVersionIdsCommand({
        SecretId: secretId,
        IncludeDeprecated: true,
        MaxResults: 100,
        ...(nextToken === undefined ? {} : { NextToken: nextToken }),
      }),
    );
    versions.push(...(listed.Versions ?? []));
    nextToken = listed.NextToken;
    if (nextToken === undefined) break;
  }
  return versions;
}
