import { randomInt, randomUUID } from 'node:crypto';
import { AWS_TEST_ACCOUNT_ID, AWS_TEST_CREDENTIALS, AWS_TEST_REGION } from './aws-test-credentials.js';
import { readBody, startLoopbackServer } from './loopback-server.js';
import {
  recordedHeaders,
  type SigV4Credentials,
  type SigV4FailureKind,
  verifySigV4,
} from './sigv4-verifier.js';

export const SECRETS_MANAGER_OPERATIONS = [
  'CreateSecret',
  'PutSecretValue',
  'GetSecretValue',
  'DescribeSecret',
  'ListSecretVersionIds',
  'DeleteSecret',
] as const;
export type SecretsManagerOperation = (typeof SECRETS_MANAGER_OPERATIONS)[number];

/**
 * A misbehaviour to inject for one operation (or `'*'`). `times` makes it "fail the next N calls, then
 * succeed"; without it the fault stays until cleared with `setFault(op, undefined)`.
 *
 * - `throttle`: `ThrottlingException` "Rate exceeded", HTTP 400 (the SDK classes it as throttling and retries).
 * - `internal-error`: `InternalServiceError`, HTTP 500 by default (retried by the SDK as transient).
 * - `access-denied`: `AccessDeniedException`, HTTP 400 (not retried).
 * - `delay`: hold the answer `ms` milliseconds. By default the operation is carried out first and only
 *   the answer is late, which is what a client timeout looks like from the outside (the write landed).
 *   `process: 'after-delay'` waits first, then carries it out.
 * - `error`: any JSON error shape.
 */
export type SecretsManagerFault = (
  | { kind: 'throttle' }
  | { kind: 'internal-error'; status?: 500 | 503 }
  | { kind: 'access-denied' }
  | { kind: 'delay'; ms: number; process?: 'before-delay' | 'after-delay' }
  | { kind: 'error'; status: number; type: string; message: string }
) & { times?: number };

export interface SecretVersionSnapshot {
  versionId: string;
  stages: string[];
  secretString?: string;
  secretBinary?: Uint8Array;
  createdDate: Date;
}

export interface SecretSnapshot {
  arn: string;
  name: string;
  description?: string;
  kmsKeyId?: string;
  tags: Array<{ Key: string; Value: string }>;
  createdDate: Date;
  lastChangedDate: Date;
  /** Set while the secret is scheduled for deletion. */
  deletedDate?: Date;
  /** Every version in creation order, including deprecated ones (no stages). */
  versions: SecretVersionSnapshot[];
}

/** Read-only view of the emulator's state, for assertions. Returns copies. */
export interface SecretsInspector {
  /** By name or ARN. */
  get(secretId: string): SecretSnapshot | undefined;
  list(): SecretSnapshot[];
}

export interface SecretsManagerEmulatorOptions {
  /** Emulator clock, epoch ms (default `Date.now`). */
  clock?: () => number;
  /** Default {@link AWS_TEST_ACCOUNT_ID}. */
  accountId?: string;
  /** The region in ARNs and the region requests must be signed for. Default {@link AWS_TEST_REGION}. */
  region?: string;
  /** Keys whose SigV4 signatures are verified. Default `[AWS_TEST_CREDENTIALS]`. */
  credentials?: SigV4Credentials[];
  /** Accept any well-formed SigV4 `Authorization` header without checking the signature. */
  acceptAnyCredentials?: boolean;
}

export interface SecretsManagerEmulator {
  /** `http://127.0.0.1:PORT`, for the SDK `endpoint`. */
  url: string;
  port: number;
  region: string;
  accountId: string;
  /** Operation names in the order they arrived (faulted and refused calls included). */
  calls: string[];
  secrets: SecretsInspector;
  setFault(operation: SecretsManagerOperation | '*', fault: SecretsManagerFault | undefined): void;
  stop(): Promise<void>;
}

interface StoredVersion {
  versionId: string;
  stages: string[];
  secretString?: string;
  secretBinary?: Buffer;
  createdDate: number;
}

interface StoredSecret {
  arn: string;
  name: string;
  description?: string;
  kmsKeyId?: string;
  tags: Array<{ Key: string; Value: string }>;
  createdDate: number;
  lastChangedDate: number;
  lastAccessedDate?: number;
  deletedDate?: number;
  versions: StoredVersion[];
}

/** An answer in the JSON 1.1 error shape. */
class ServiceError extends Error {
  constructor(
    readonly type: string,
    message: string,
    readonly status = 400,
    /** Modeled Secrets Manager errors carry `Message`; common (coral) errors carry `message`. */
    readonly messageField: 'Message' | 'message' = 'Message',
  ) {
    super(message);
  }
}

const CONTENT_TYPE = 'application/x-amz-json-1.1';
const TARGET_PREFIX = 'secretsmanager.';
const MAX_BODY_BYTES = 1024 * 1024;
const MAX_SECRET_BYTES = 65_536;
const NAME_PATTERN = /^[A-Za-z0-9/_+=.@-]{1,512}$/;
const INVALID_NAME =
  'Invalid name. Must be a valid name containing alphanumeric characters, or any of the following: -/_+=.@!';
const MARKED_FOR_DELETION =
  "You can't perform this operation on the secret because it was marked for deletion.";
const SECRET_NOT_FOUND = "Secrets Manager can't find the specified secret.";
const SUFFIX_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

const FAILURE_CODES: Record<SigV4FailureKind, string> = {
  'missing-authentication': 'MissingAuthenticationTokenException',
  'incomplete-signature': 'IncompleteSignatureException',
  'signature-mismatch': 'InvalidSignatureException',
  'signature-expired': 'InvalidSignatureException',
  'unknown-access-key': 'UnrecognizedClientException',
  'invalid-session-token': 'UnrecognizedClientException',
};

/**
 * Starts a local AWS Secrets Manager endpoint speaking the real JSON 1.1 protocol (`POST /`,
 * `X-Amz-Target: secretsmanager.<Operation>`, `Content-Type: application/x-amz-json-1.1`) for
 * CreateSecret, PutSecretValue, GetSecretValue, DescribeSecret and DeleteSecret, with AWS's staging
 * rules (AWSCURRENT / AWSPREVIOUS), `ClientRequestToken` idempotency (the token becomes the VersionId),
 * name and size validation, SigV4 verification and injectable faults.
 *
 * @example
 * const sm = await startSecretsManagerEmulator();
 * const client = new SecretsManagerClient({ region: sm.region, endpoint: sm.url, credentials: AWS_TEST_CREDENTIALS });
 */
export async function startSecretsManagerEmulator(
  options: SecretsManagerEmulatorOptions = {},
): Promise<SecretsManagerEmulator> {
  const clock = options.clock ?? Date.now;
  const accountId = options.accountId ?? AWS_TEST_ACCOUNT_ID;
  const region = options.region ?? AWS_TEST_REGION;
  const keys = new Map(
    (options.credentials ?? [AWS_TEST_CREDENTIALS]).map((credential) => [credential.accessKeyId, credential]),
  );
  const secrets = new Map<string, StoredSecret>();
  const calls: string[] = [];
  const faults = new Map<string, { fault: SecretsManagerFault; usesLeft: number }>();

  const takeFault = (operation: string): SecretsManagerFault | undefined => {
    const key = faults.has(operation) ? operation : faults.has('*') ? '*' : undefined;
    if (key === undefined) return undefined;
    const entry = faults.get(key) as { fault: SecretsManagerFault; usesLeft: number };
    entry.usesLeft -= 1;
    if (entry.usesLeft <= 0) faults.delete(key);
    return entry.fault;
  };

  const handlers: Record<SecretsManagerOperation, (input: Record<string, unknown>) => unknown> = {
    CreateSecret(input) {
      const name = requiredString(input, 'Name', 'name');
      if (!NAME_PATTERN.test(name)) throw new ServiceError('ValidationException', INVALID_NAME);
      const description = optionalString(input, 'Description', 'description');
      if (description !== undefined && description.length > 2048) {
        throw lengthError('description', 'less than or equal to 2048');
      }
      const kmsKeyId = optionalString(input, 'KmsKeyId', 'kmsKeyId');
      const tags = parseTags(input['Tags']);
      const value = secretValue(input);
      const token = clientRequestToken(input);
      const existing = secrets.get(name);
      if (existing !== undefined) {
        if (existing.deletedDate !== undefined) {
          throw new ServiceError(
            'InvalidRequestException',
            `You can't create this secret because a secret with this name is already scheduled for deletion.`,
          );
        }
        const replay = existing.versions.find((version) => version.versionId === token);
        if (replay !== undefined && value !== undefined && sameValue(replay, value)) {
          return { ARN: existing.arn, Name: existing.name, VersionId: replay.versionId };
        }
        throw new ServiceError(
          'ResourceExistsException',
          `The operation failed because the secret ${name} already exists.`,
        );
      }
      const now = clock();
      const secret: StoredSecret = {
        arn: `arn:aws:secretsmanager:${region}:${accountId}:secret:${name}-${randomSuffix()}`,
        name,
        tags,
        createdDate: now,
        lastChangedDate: now,
        versions: [],
        ...(description !== undefined ? { description } : {}),
        ...(kmsKeyId !== undefined ? { kmsKeyId } : {}),
      };
      secrets.set(name, secret);
      if (value === undefined) return { ARN: secret.arn, Name: secret.name };
      const version: StoredVersion = { versionId: token, stages: ['AWSCURRENT'], createdDate: now, ...value };
      secret.versions.push(version);
      return { ARN: secret.arn, Name: secret.name, VersionId: version.versionId };
    },

    PutSecretValue(input) {
      const secret = findSecret(input);
      if (secret.deletedDate !== undefined)
        throw new ServiceError('InvalidRequestException', MARKED_FOR_DELETION);
      const value = secretValue(input);
      if (value === undefined) {
        throw new ServiceError(
          'InvalidRequestException',
          'You must provide either SecretString or SecretBinary.',
        );
      }
      const token = clientRequestToken(input);
      const stages = parseStages(input['VersionStages']) ?? ['AWSCURRENT'];
      const replay = secret.versions.find((version) => version.versionId === token);
      if (replay !== undefined) {
        if (!sameValue(replay, value)) {
          throw new ServiceError(
            'ResourceExistsException',
            "You can't modify an existing version, you can only create a new version.",
          );
        }
        return {
          ARN: secret.arn,
          Name: secret.name,
          VersionId: replay.versionId,
          VersionStages: [...replay.stages],
        };
      }
      const now = clock();
      const version: StoredVersion = { versionId: token, stages: [], createdDate: now, ...value };
      secret.versions.push(version);
      for (const stage of stages) moveStage(secret, stage, version);
      secret.lastChangedDate = now;
      return {
        ARN: secret.arn,
        Name: secret.name,
        VersionId: version.versionId,
        VersionStages: [...version.stages],
      };
    },

    GetSecretValue(input) {
      const secret = findSecret(input);
      if (secret.deletedDate !== undefined)
        throw new ServiceError('InvalidRequestException', MARKED_FOR_DELETION);
      const versionId = optionalString(input, 'VersionId', 'versionId');
      const stage = optionalString(input, 'VersionStage', 'versionStage');
      let version: StoredVersion | undefined;
      if (versionId !== undefined) {
        version = secret.versions.find((candidate) => candidate.versionId === versionId);
        if (version === undefined) {
          throw new ServiceError(
            'ResourceNotFoundException',
            `Secrets Manager can't find the specified secret value for VersionId: ${versionId}`,
          );
        }
        if (stage !== undefined && !version.stages.includes(stage)) {
          throw new ServiceError(
            'ResourceNotFoundException',
            'You provided a VersionStage that is not associated to the provided VersionId.',
          );
        }
      } else {
        const label = stage ?? 'AWSCURRENT';
        version = secret.versions.find((candidate) => candidate.stages.includes(label));
        if (version === undefined) {
          throw new ServiceError(
            'ResourceNotFoundException',
            `Secrets Manager can't find the specified secret value for staging label: ${label}`,
          );
        }
      }
      const today = new Date(clock());
      secret.lastAccessedDate = Date.UTC(today.getUTCFullYear(), today.getUTCMonth(), today.getUTCDate());
      return {
        ARN: secret.arn,
        Name: secret.name,
        VersionId: version.versionId,
        ...(version.secretString !== undefined ? { SecretString: version.secretString } : {}),
        ...(version.secretBinary !== undefined
          ? { SecretBinary: version.secretBinary.toString('base64') }
          : {}),
        VersionStages: [...version.stages],
        CreatedDate: epochSeconds(version.createdDate),
      };
    },

    DescribeSecret(input) {
      const secret = findSecret(input);
      const versionIdsToStages: Record<string, string[]> = {};
      for (const version of secret.versions) {
        if (version.stages.length > 0) versionIdsToStages[version.versionId] = [...version.stages];
      }
      return {
        ARN: secret.arn,
        Name: secret.name,
        ...(secret.description !== undefined ? { Description: secret.description } : {}),
        ...(secret.kmsKeyId !== undefined ? { KmsKeyId: secret.kmsKeyId } : {}),
        LastChangedDate: epochSeconds(secret.lastChangedDate),
        ...(secret.lastAccessedDate !== undefined
          ? { LastAccessedDate: epochSeconds(secret.lastAccessedDate) }
          : {}),
        ...(secret.deletedDate !== undefined ? { DeletedDate: epochSeconds(secret.deletedDate) } : {}),
        ...(secret.tags.length > 0 ? { Tags: secret.tags.map((tag) => ({ ...tag })) } : {}),
        VersionIdsToStages: versionIdsToStages,
        CreatedDate: epochSeconds(secret.createdDate),
      };
    },

    /**
     * Staged versions, and with `IncludeDeprecated` the others too, oldest first, in pages of
     * `MaxResults` (1 to 100; 100 when absent) linked by `NextToken`.
     */
    ListSecretVersionIds(input) {
      const secret = findSecret(input);
      const includeDeprecated = input['IncludeDeprecated'];
      if (includeDeprecated !== undefined && typeof includeDeprecated !== 'boolean') {
        throw new ServiceError('SerializationException', 'Expected a boolean for includeDeprecated');
      }
      const pageSize = input['MaxResults'] ?? 100;
      if (typeof pageSize !== 'number' || !Number.isInteger(pageSize) || pageSize < 1 || pageSize > 100) {
        throw new ServiceError(
          'InvalidParameterException',
          'Invalid MaxResults: the value must be between 1 and 100.',
        );
      }
      const start = pageStart(input['NextToken']);
      const listed = secret.versions.filter(
        (version) => includeDeprecated === true || version.stages.length > 0,
      );
      const page = listed.slice(start, start + pageSize);
      return {
        ARN: secret.arn,
        Name: secret.name,
        Versions: page.map((version) => ({
          VersionId: version.versionId,
          VersionStages: [...version.stages],
          CreatedDate: epochSeconds(version.createdDate),
        })),
        ...(start + pageSize < listed.length ? { NextToken: `page-from-${start + pageSize}` } : {}),
      };
    },

    DeleteSecret(input) {
      const secret = findSecret(input);
      const force = input['ForceDeleteWithoutRecovery'] === true;
      const window = input['RecoveryWindowInDays'];
      if (force && window !== undefined) {
        throw new ServiceError(
          'InvalidParameterException',
          "You can't use ForceDeleteWithoutRecovery in conjunction with RecoveryWindowInDays.",
        );
      }
      if (window !== undefined && (typeof window !== 'number' || window < 7 || window > 30)) {
        throw new ServiceError(
          'InvalidParameterException',
          'The RecoveryWindowInDays value must be between 7 and 30 days (inclusive).',
        );
      }
      const now = clock();
      if (force) {
        secrets.delete(secret.name);
        return { ARN: secret.arn, Name: secret.name, DeletionDate: epochSeconds(now) };
      }
      if (secret.deletedDate !== undefined) {
        throw new ServiceError(
          'InvalidRequestException',
          "You can't perform this operation on the secret because it was already scheduled for deletion.",
        );
      }
      secret.deletedDate = now;
      const days = typeof window === 'number' ? window : 30;
      return { ARN: secret.arn, Name: secret.name, DeletionDate: epochSeconds(now + days * 86_400_000) };
    },
  };

  /** Where the page a `NextToken` of ListSecretVersionIds asks for begins; 0 without one. */
  function pageStart(nextToken: unknown): number {
    if (nextToken === undefined) return 0;
    const start = typeof nextToken === 'string' ? /^page-from-(\d+)$/.exec(nextToken)?.[1] : undefined;
    if (start === undefined)
      throw new ServiceError('InvalidNextTokenException', 'The NextToken value is invalid.');
    return Number(start);
  }

  function findSecret(input: Record<string, unknown>): StoredSecret {
    const secretId = requiredString(input, 'SecretId', 'secretId');
    if (secretId.length > 2048) throw lengthError('secretId', 'less than or equal to 2048');
    if (secretId.startsWith('arn:')) {
      for (const secret of secrets.values()) {
        // A full ARN, or a partial one without the random suffix.
        if (secret.arn === secretId || secret.arn.slice(0, -7) === secretId) return secret;
      }
      throw new ServiceError('ResourceNotFoundException', SECRET_NOT_FOUND);
    }
    if (!NAME_PATTERN.test(secretId)) throw new ServiceError('ValidationException', INVALID_NAME);
    const secret = secrets.get(secretId);
    if (secret === undefined) throw new ServiceError('ResourceNotFoundException', SECRET_NOT_FOUND);
    return secret;
  }

  const server = await startLoopbackServer(async (req, res) => {
    const body = await readBody(req, MAX_BODY_BYTES);
    const send = (status: number, payload: unknown) => {
      if (res.destroyed) return;
      const text = JSON.stringify(payload);
      res.writeHead(status, {
        'content-type': CONTENT_TYPE,
        'content-length': Buffer.byteLength(text),
        'x-amzn-RequestId': randomUUID(),
        date: new Date(clock()).toUTCString(),
      });
      res.end(text);
    };
    const sendError = (error: ServiceError) =>
      send(error.status, { __type: error.type, [error.messageField]: error.message });

    const target = req.headers['x-amz-target'];
    const operation =
      typeof target === 'string' && target.startsWith(TARGET_PREFIX)
        ? target.slice(TARGET_PREFIX.length)
        : '';
    calls.push(operation === '' ? String(target ?? '') : operation);

    const fault = operation === '' ? undefined : takeFault(operation);
    let lateBy = 0;
    if (fault !== undefined) {
      switch (fault.kind) {
        case 'throttle':
          sendError(new ServiceError('ThrottlingException', 'Rate exceeded', 400, 'message'));
          return;
        case 'internal-error':
          sendError(
            new ServiceError(
              'InternalServiceError',
              'An error occurred on the server side.',
              fault.status ?? 500,
            ),
          );
          return;
        case 'access-denied':
          sendError(
            new ServiceError(
              'AccessDeniedException',
              `User: arn:aws:sts::${accountId}:assumed-role/emulator/session is not authorized to perform: secretsmanager:${operation}`,
              400,
              'message',
            ),
          );
          return;
        case 'error':
          sendError(new ServiceError(fault.type, fault.message, fault.status));
          return;
        case 'delay':
          if (fault.process === 'after-delay') {
            if (!(await server.sleep(fault.ms))) return;
          } else {
            lateBy = fault.ms;
          }
      }
    }

    let status = 200;
    let payload: unknown;
    try {
      if (req.method !== 'POST' || (req.url ?? '') !== '/') {
        throw new ServiceError('UnknownOperationException', 'Only POST / is supported', 404, 'message');
      }
      authenticate(req.rawHeaders, req.url ?? '/', body);
      if (!isOperation(operation)) {
        throw new ServiceError(
          'UnknownOperationException',
          `Unknown operation ${String(target)}`,
          400,
          'message',
        );
      }
      let input: Record<string, unknown>;
      try {
        const parsed: unknown = JSON.parse(body.length === 0 ? '{}' : body.toString('utf8'));
        if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
          throw new Error('not an object');
        input = parsed as Record<string, unknown>;
      } catch {
        throw new ServiceError(
          'SerializationException',
          'Start of structure or map found where not expected.',
        );
      }
      payload = handlers[operation](input);
    } catch (error) {
      if (!(error instanceof ServiceError)) throw error;
      status = error.status;
      payload = { __type: error.type, [error.messageField]: error.message };
    }
    if (lateBy > 0 && !(await server.sleep(lateBy))) return;
    send(status, payload);

    function authenticate(rawHeaders: string[], url: string, received: Buffer): void {
      if (options.acceptAnyCredentials) {
        const authorization = recordedHeaders(rawHeaders)['authorization'] ?? '';
        if (!authorization.startsWith('AWS4-HMAC-SHA256 ')) {
          throw new ServiceError(
            'MissingAuthenticationTokenException',
            'Missing Authentication Token',
            400,
            'message',
          );
        }
        return;
      }
      const verdict = verifySigV4(
        { method: 'POST', url, rawHeaders, body: received },
        { service: 'secretsmanager', region, now: clock(), lookup: (id) => keys.get(id) },
      );
      if (!verdict.ok) {
        throw new ServiceError(FAILURE_CODES[verdict.kind], verdict.message, 400, 'message');
      }
    }
  });

  const inspector: SecretsInspector = {
    get(secretId) {
      for (const secret of secrets.values()) {
        if (secret.name === secretId || secret.arn === secretId) return snapshot(secret);
      }
      return undefined;
    },
    list: () => [...secrets.values()].map(snapshot),
  };

  return {
    url: server.url,
    port: server.port,
    region,
    accountId,
    calls,
    secrets: inspector,
    setFault(operation, fault) {
      if (fault === undefined) faults.delete(operation);
      else faults.set(operation, { fault, usesLeft: fault.times ?? Number.POSITIVE_INFINITY });
    },
    stop: () => server.stop(),
  };
}

function isOperation(value: string): value is SecretsManagerOperation {
  return (SECRETS_MANAGER_OPERATIONS as readonly string[]).includes(value);
}

/** AWS moves a label: it leaves every other version; AWSCURRENT's old holder becomes AWSPREVIOUS. */
function moveStage(secret: StoredSecret, stage: string, target: StoredVersion): void {
  const holder = secret.versions.find((version) => version !== target && version.stages.includes(stage));
  if (holder !== undefined) holder.stages = holder.stages.filter((label) => label !== stage);
  if (stage === 'AWSCURRENT' && holder !== undefined) {
    for (const version of secret.versions) {
      version.stages = version.stages.filter((label) => label !== 'AWSPREVIOUS');
    }
    holder.stages.push('AWSPREVIOUS');
  }
  if (!target.stages.includes(stage)) target.stages.push(stage);
}

function secretValue(
  input: Record<string, unknown>,
): { secretString: string } | { secretBinary: Buffer } | undefined {
  const secretString = optionalString(input, 'SecretString', 'secretString');
  const binary = optionalString(input, 'SecretBinary', 'secretBinary');
  if (secretString !== undefined && binary !== undefined) {
    throw new ServiceError(
      'InvalidParameterException',
      "You can't specify both a binary secret value and a string secret value in the same secret.",
    );
  }
  if (secretString !== undefined) {
    // The quota is 65,536 bytes; counting UTF-8 bytes is the strict reading.
    const size = Buffer.byteLength(secretString, 'utf8');
    if (size < 1) throw lengthError('secretString', 'greater than or equal to 1');
    if (size > MAX_SECRET_BYTES)
      throw lengthError('secretString', `less than or equal to ${MAX_SECRET_BYTES}`);
    return { secretString };
  }
  if (binary !== undefined) {
    const secretBinary = Buffer.from(binary, 'base64');
    if (secretBinary.length < 1) throw lengthError('secretBinary', 'greater than or equal to 1');
    if (secretBinary.length > MAX_SECRET_BYTES) {
      throw lengthError('secretBinary', `less than or equal to ${MAX_SECRET_BYTES}`);
    }
    return { secretBinary };
  }
  return undefined;
}

function sameValue(
  version: StoredVersion,
  value: { secretString: string } | { secretBinary: Buffer },
): boolean {
  if ('secretString' in value) return version.secretString === value.secretString;
  return version.secretBinary?.equals(value.secretBinary) ?? false;
}

function clientRequestToken(input: Record<string, unknown>): string {
  const token = optionalString(input, 'ClientRequestToken', 'clientRequestToken');
  if (token === undefined) return randomUUID();
  if (token.length < 32) throw lengthError('clientRequestToken', 'greater than or equal to 32');
  if (token.length > 64) throw lengthError('clientRequestToken', 'less than or equal to 64');
  return token;
}

function parseStages(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  if (
    !Array.isArray(value) ||
    value.length < 1 ||
    value.length > 20 ||
    value.some((s) => typeof s !== 'string')
  ) {
    throw new ServiceError(
      'ValidationException',
      "1 validation error detected: Value at 'versionStages' failed to satisfy constraint: Member must have length between 1 and 20",
    );
  }
  return value as string[];
}

function parseTags(value: unknown): Array<{ Key: string; Value: string }> {
  if (value === undefined) return [];
  if (!Array.isArray(value)) throw new ServiceError('SerializationException', 'Tags must be a list');
  return value.map((tag: unknown) => {
    const record = tag as Record<string, unknown> | null;
    if (typeof record?.['Key'] !== 'string' || typeof record['Value'] !== 'string') {
      throw new ServiceError('InvalidParameterException', 'Each tag needs a string Key and Value.');
    }
    return { Key: record['Key'], Value: record['Value'] };
  });
}

function requiredString(input: Record<string, unknown>, field: string, wireName: string): string {
  const value = optionalString(input, field, wireName);
  if (value === undefined) {
    throw new ServiceError(
      'ValidationException',
      `1 validation error detected: Value null at '${wireName}' failed to satisfy constraint: Member must not be null`,
    );
  }
  return value;
}

function optionalString(input: Record<string, unknown>, field: string, wireName: string): string | undefined {
  const value = input[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string') {
    throw new ServiceError('SerializationException', `Expected a string for ${wireName}`);
  }
  return value;
}

function lengthError(wireName: string, constraint: string): ServiceError {
  // AWS does not echo the values of sensitive members (secretString) in this message.
  return new ServiceError(
    'ValidationException',
    `1 validation error detected: Value at '${wireName}' failed to satisfy constraint: Member must have length ${constraint}`,
  );
}

function randomSuffix(): string {
  let suffix = '';
  for (let i = 0; i < 6; i += 1) suffix += SUFFIX_ALPHABET[randomInt(SUFFIX_ALPHABET.length)];
  return suffix;
}

function epochSeconds(epochMs: number): number {
  return epochMs / 1000;
}

function snapshot(secret: StoredSecret): SecretSnapshot {
  return {
    arn: secret.arn,
    name: secret.name,
    ...(secret.description !== undefined ? { description: secret.description } : {}),
    ...(secret.kmsKeyId !== undefined ? { kmsKeyId: secret.kmsKeyId } : {}),
    tags: secret.tags.map((tag) => ({ ...tag })),
    createdDate: new Date(secret.createdDate),
    lastChangedDate: new Date(secret.lastChangedDate),
    ...(secret.deletedDate !== undefined ? { deletedDate: new Date(secret.deletedDate) } : {}),
    versions: secret.versions.map((version) => ({
      versionId: version.versionId,
      stages: [...version.stages],
      ...(version.secretString !== undefined ? { secretString: version.secretString } : {}),
      ...(version.secretBinary !== undefined ? { secretBinary: new Uint8Array(version.secretBinary) } : {}),
      createdDate: new Date(version.createdDate),
    })),
  };
}
