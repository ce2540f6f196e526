import { createHash } from 'node:crypto';
import {
  CreateSecretCommand,
  GetSecretValueCommand,
  type GetSecretValueCommandOutput,
  PutSecretValueCommand,
  type SecretsManagerClient,
} from '@aws-sdk/client-secrets-manager';
import * as z from 'zod';
import { StorageError } from '../core/errors.js';
import { findEarlierCas } from './ca-secret-history.js';
import type { CaStore, StoredCas } from './certificate-authorities.js';
import { storedCasProblems } from './stored-cas-problems.js';

export interface SecretsManagerCaStoreOptions {
  /** Built once per cold start by the caller. */
  readonly client: SecretsManagerClient;
  /**
   * The secret's name or ARN. Only with a name can a missing secret be created here; with an ARN the
   * secret must already exist (the `MachineIdAuth` construct creates it, holding the placeholder).
   */
  readonly secretId: string;
  /** The KMS key for a secret created here. @default the account's `aws/secretsmanager` key */
  readonly kmsKeyId?: string;
}

/**
 * What the CA secret holds before the auth service's first start, in the shape of CDK's
 * `SecretStringGenerator`: `{"uninitialised":true,"placeholder":"<random>"}`. The construct creates the
 * secret with it because CloudFormation needs some value. A value is a placeholder when it is a JSON object
 * whose `uninitialised` is `true`, or the empty object `{}`; both hold no key, so replacing them loses
 * nothing. Anything else that is not a valid set of CAs is refused as corrupt and never overwritten (a
 * truncated CA secret must be restored, since new CAs would force every bot to re-join).
 *
 * A placeholder over an earlier version that holds CAs (`AWSPREVIOUS`, or an unlabelled one after a
 * second placeholder) is refused too: the cluster's CAs were pushed aside (a deploy that changed the
 * secret's initial value, `UpdateSecret`, a stage moved back), and new CAs would cut every bot, host
 * and app off. Only a placeholder that says so,
 * `{"uninitialised":true,"discard_previous_cas":true}` ({@link CA_SECRET_RESET}), has new CAs made
 * over earlier ones.
 */
export const CA_SECRET_PLACEHOLDER = Object.freeze({
  secretStringTemplate: '{"uninitialised":true}',
  generateStringKey: 'placeholder',
});

/** The placeholder an operator writes to have new CAs made on purpose, discarding the current ones. */
export const CA_SECRET_RESET = '{"uninitialised":true,"discard_previous_cas":true}';

const certificatePem = z
  .string()
  .regex(
    /^-----BEGIN CERTIFICATE-----\r?\n[\s\S]+\r?\n-----END CERTIFICATE-----\s*$/,
    'not a PEM certificate',
  );
const privateKeyPem = z
  .string()
  .regex(
    /^-----BEGIN PRIVATE KEY-----\r?\n[\s\S]+\r?\n-----END PRIVATE KEY-----\s*$/,
    'not a PKCS#8 PEM key',
  );
const tlsCa = z.strictObject({ certificatePem, privateKeyPem });
const sshCa = z.strictObject({ privateKeyPem });

const storedCasSchema = z.strictObject({
  clusterName: z.string().min(1),
  suite: z.enum(['balanced', 'legacy']),
  tlsUser: tlsCa,
  tlsHost: tlsCa,
  sshUser: sshCa,
  sshHost: sshCa,
}) satisfies z.ZodType<StoredCas>;

type SecretState =
  /** GetSecretValue found no AWSCURRENT value: no secret, or a secret created without a value. */
  | { readonly kind: 'absent' }
  | { readonly kind: 'placeholder'; readonly versionId: string | undefined }
  | { readonly kind: 'initialised'; readonly cas: StoredCas };

// Enough for a lost race plus a few stale reads; each round costs two calls.
const MAX_ROUNDS = 5;
const ROUND_DELAY_MS = 100;

/**
 * Keeps the cluster's CAs as one JSON secret in AWS Secrets Manager. No cache: the Lambda keeps the loaded
 * CAs in memory across warm invocations.
 *
 * First start is settled by Secrets Manager's idempotency rules rather than by a lock. Every secret
 * version has an id, and the id of the first CA version is derived from the version it replaces (the
 * placeholder's version id, or nothing for a secret without a value). Each racing cold start writes its
 * own CAs under that same id: with `CreateSecret` when the secret is missing, `PutSecretValue` otherwise.
 * Secrets Manager creates a version id once; a second write with the same id and a different value fails
 * with `ResourceExistsException` (the same id and the same value is a no-op, so an SDK retry of a write
 * that landed succeeds). So exactly one writer wins, and every loser reads the winning version by its id,
 * which also sidesteps a stale read of AWSCURRENT.
 *
 * The one race this cannot settle is the placeholder itself being replaced during a first start (two
 * writers that saw different placeholder versions derive different ids); that takes an operator resetting
 * the secret at the same moment, and the next cold start then reads whichever CAs are current.
 *
 * @example
 * const caStore = new SecretsManagerCaStore({ client: new SecretsManagerClient({}), secretId: process.env.CA_SECRET_ARN });
 * const service = await AuthService.create({ caStore, storage, clock, random, logger });
 */
export class SecretsManagerCaStore implements CaStore {
  private readonly client: SecretsManagerClient;
  private readonly secretId: string;
  private readonly kmsKeyId: string | undefined;

  constructor(options: SecretsManagerCaStoreOptions) {
    this.client = options.client;
    this.secretId = options.secretId;
    this.kmsKeyId = options.kmsKeyId;
  }

  /** The current CAs; `undefined` when the secret is missing, has no value or holds the placeholder. */
  async load(): Promise<StoredCas | undefined> {
    const state = await this.read();
    return state.kind === 'initialised' ? state.cas : undefined;
  }

  /** Stores `cas` unless CAs are already there, and returns the CAs that won. */
  async createIfAbsent(cas: StoredCas): Promise<StoredCas> {
    const value = JSON.stringify(cas);
    // Set once CreateSecret reports that the secret exists although no value could be read: from then
    // on an absent value means a secret without one, which PutSecretValue fills.
    let secretExists = false;
    for (let round = 0; round < MAX_ROUNDS; round += 1) {
      if (round > 1) await delay(ROUND_DELAY_MS * round);
      const state = await this.read();
      if (state.kind === 'initialised') return state.cas;
      const versionId = initialVersionId(state.kind === 'placeholder' ? state.versionId : undefined);
      const outcome =
        state.kind === 'absent' && !secretExists
          ? await this.createSecret(value, versionId)
          : await this.putFirstValue(value, versionId);
      if (outcome === 'written') return cas;
      if (outcome === 'secret-exists') {
        secretExists = true;
        continue;
      }
      const winner = await this.readVersion(versionId);
      if (winner !== undefined) return winner;
    }
    throw new StorageError(
      'ca_init_conflict',
      `Could not initialise the CA secret ${this.secretId}: after ${MAX_ROUNDS} rounds it still held no CAs ` +
        'although another writer had claimed its first version. Something else is changing the secret; ' +
        'stop it, check the secret with `aws secretsmanager list-secret-version-ids`, and start again.',
    );
  }

  private async read(): Promise<SecretState> {
    let output: GetSecretValueCommandOutput;
    try {
      output = await this.client.send(
        new GetSecretValueCommand({ SecretId: this.secretId, VersionStage: 'AWSCURRENT' }),
      );
    } catch (error) {
      if (errorName(error) === 'ResourceNotFoundException') return { kind: 'absent' };
      throw this.toStorageError(error, 'GetSecretValue');
    }
    const json = this.parseJson(output);
    if (isPlaceholder(json)) {
      if (!discardsPreviousCas(json)) await this.refuseIfCasWerePushedAside(output.VersionId);
      return { kind: 'placeholder', versionId: output.VersionId };
    }
    return { kind: 'initialised', cas: this.parseCas(json) };
  }

  /**
   * Refuses a placeholder that came after CAs (see {@link CA_SECRET_PLACEHOLDER}), also when another
   * placeholder came in between ({@link findEarlierCas}). Runs only while the secret holds a
   * placeholder: once per cold start before the first CAs are written.
   */
  private async refuseIfCasWerePushedAside(currentVersionId: string | undefined): Promise<void> {
    const earlier = await findEarlierCas(
      this.client,
      this.secretId,
      currentVersionId,
      holdsCas,
      (error, operation) => this.toStorageError(error, operation),
    );
    if (earlier === undefined) return;
    const current = currentVersionId ?? '<AWSCURRENT version id>';
    const where = earlier.stages.length > 0 ? earlier.stages.join(', ') : 'no longer staged';
    throw new StorageError(
      'ca_reset',
      `The CA secret ${this.secretId} holds a placeholder, but an earlier version (${earlier.versionId}, ` +
        `${where}) holds this cluster's CAs: something put the placeholder over them (a deploy that ` +
        "changed the secret's initial value, UpdateSecret, or a stage moved back). New CAs would make every " +
        'bot, host and app stop trusting the cluster, so none are made. Put the CAs back: aws secretsmanager ' +
        `update-secret-version-stage --secret-id ${this.secretId} --version-stage AWSCURRENT ` +
        `--move-to-version-id ${earlier.versionId} --remove-from-version-id ${current}. The secret's resource policy ` +
        'denies that to all but the auth role and the CDK deploy role: run it as the deploy role, or first ' +
        'edit the policy to let yourself (the next cdk deploy puts it back). To discard the CAs on purpose ' +
        `instead, put ${CA_SECRET_RESET} in the secret (PutSecretValue, denied the same way).`,
    );
  }

  /** The CAs in one version, read by id; `undefined` when that version cannot be seen yet. */
  private async readVersion(versionId: string): Promise<StoredCas | undefined> {
    let output: GetSecretValueCommandOutput;
    try {
      output = await this.client.send(
        new GetSecretValueCommand({ SecretId: this.secretId, VersionId: versionId }),
      );
    } catch (error) {
      if (errorName(error) === 'ResourceNotFoundException') return undefined;
      throw this.toStorageError(error, 'GetSecretValue');
    }
    return this.parseCas(this.parseJson(output));
  }

  private async createSecret(value: string, versionId: string): Promise<'written' | 'secret-exists'> {
    if (this.secretId.startsWith('arn:')) {
      throw new StorageError(
        'ca_missing',
        `The CA secret ${this.secretId} does not exist. Deploy the stack that creates it (cdk deploy), or ` +
          'configure the secret by name, with which the auth service creates a missing secret itself.',
      );
    }
    try {
      await this.client.send(
        new CreateSecretCommand({
          Name: this.secretId,
          Description:
            'Machine ID certificate authorities (private keys), written by the auth service on first start.',
          SecretString: value,
          ClientRequestToken: versionId,
          ...(this.kmsKeyId === undefined ? {} : { KmsKeyId: this.kmsKeyId }),
        }),
      );
      return 'written';
    } catch (error) {
      if (errorName(error) === 'ResourceExistsException') return 'secret-exists';
      throw this.toStorageError(error, 'CreateSecret');
    }
  }

  private async putFirstValue(value: string, versionId: string): Promise<'written' | 'lost'> {
    try {
      await this.client.send(
        new PutSecretValueCommand({
          SecretId: this.secretId,
          SecretString: value,
          ClientRequestToken: versionId,
          VersionStages: ['AWSCURRENT'],
        }),
      );
      return 'written';
    } catch (error) {
      if (errorName(error) === 'ResourceExistsException') return 'lost';
      throw this.toStorageError(error, 'PutSecretValue');
    }
  }

  private parseJson(output: GetSecretValueCommandOutput): unknown {
    if (output.SecretString === undefined) {
      throw this.corrupt('holds a binary value, not JSON text');
    }
    try {
      return JSON.parse(output.SecretString);
    } catch {
      // Not kept as the cause: the parser's message quotes the text around the error, which may be key
      // material.
      throw this.corrupt('is not valid JSON');
    }
  }

  private parseCas(json: unknown): StoredCas {
    const parsed = storedCasSchema.safeParse(json);
    if (!parsed.success) {
      // Paths and expectations only: zod's messages here never echo the values.
      const problems = parsed.error.issues
        .slice(0, 5)
        .map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`)
        .join('; ');
      throw this.corrupt(`does not hold a valid set of CAs (${problems})`);
    }
    const problems = storedCasProblems(parsed.data);
    if (problems.length > 0) {
      throw this.corrupt(`does not hold a valid set of CAs (${problems.slice(0, 5).join('; ')})`);
    }
    return parsed.data;
  }

  private corrupt(problem: string): StorageError {
    return new StorageError(
      'ca_corrupt',
      `The CA secret ${this.secretId} ${problem}. Restore its previous version (aws secretsmanager ` +
        'update-secret-version-stage) rather than replacing it: new CAs would make every bot re-join. For a ' +
        `cluster that never started, set it to ${CA_SECRET_PLACEHOLDER.secretStringTemplate} to have new CAs made.`,
    );
  }

  private toStorageError(error: unknown, operation: string): StorageError {
    if (error instanceof StorageError) return error;
    const name = errorName(error) ?? 'Error';
    const detail = error instanceof Error ? error.message : String(error);
    const cause = { cause: error };
    if (name === 'AccessDeniedException') {
      return new StorageError(
        'ca_access_denied',
        `The auth service is not allowed secretsmanager:${operation} on the CA secret ${this.secretId} ` +
          `(${detail}). Grant the function's role secretsmanager:GetSecretValue, ` +
          'secretsmanager:PutSecretValue and secretsmanager:ListSecretVersionIds on the secret (the ' +
          'MachineIdAuth construct does).',
        cause,
      );
    }
    if (name === 'DecryptionFailure' || name === 'EncryptionFailure') {
      return new StorageError(
        'ca_access_denied',
        `Secrets Manager could not use the KMS key of the CA secret ${this.secretId} for ` +
          `secretsmanager:${operation} (${name}). Allow the function's role kms:Decrypt and ` +
          'kms:GenerateDataKey on that key, and check that the key is enabled.',
        cause,
      );
    }
    if (name === 'ThrottlingException') {
      return new StorageError(
        'ca_throttled',
        `Secrets Manager kept throttling secretsmanager:${operation} on the CA secret ${this.secretId} after ` +
          "the SDK's retries. Retry later.",
        cause,
      );
    }
    if (name === 'InvalidRequestException' && /deletion/i.test(detail)) {
      return new StorageError(
        'ca_unavailable',
        `The CA secret ${this.secretId} is scheduled for deletion. Restore it with ` +
          `aws secretsmanager restore-secret --secret-id ${this.secretId}.`,
        cause,
      );
    }
    return new StorageError(
      'ca_unavailable',
      `secretsmanager:${operation} on the CA secret ${this.secretId} failed (${name}: ${detail}).`,
      cause,
    );
  }
}

function discardsPreviousCas(placeholder: unknown): boolean {
  return (placeholder as Record<string, unknown>)['discard_previous_cas'] === true;
}

/** Whether a version's text is a valid set of CAs; anything else there is no loss to write over. */
function holdsCas(secretString: string | undefined): boolean {
  if (secretString === undefined) return false;
  try {
    return storedCasSchema.safeParse(JSON.parse(secretString)).success;
  } catch {
    return false;
  }
}

function isPlaceholder(json: unknown): boolean {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) return false;
  return Object.keys(json).length === 0 || (json as Record<string, unknown>)['uninitialised'] === true;
}

/**
 * The version id (client request token, 32 to 64 characters) of the first CA version written over
 * `replacedVersionId`: the same for every racer that saw the same state, different for each placeholder.
 */
function initialVersionId(replacedVersionId: string | undefined): string {
  const digest = createHash('sha256')
    .update(replacedVersionId ?? '')
    .digest('hex');
  return `mid-ca-init-${digest.slice(0, 48)}`;
}

function errorName(error: unknown): string | undefined {
  return error instanceof Error ? error.name : undefined;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
