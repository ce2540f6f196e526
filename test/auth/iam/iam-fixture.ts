import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { BotIdentityResponse } from '../../../lib/api/bot-identity.js';
import type { JoinRequest, SignedStsRequest } from '../../../lib/api/join.js';
import type { RecordedAuditEvent } from '../../../lib/auth/audit-log.js';
import { AuthService } from '../../../lib/auth/auth-service.js';
import { HttpStsClient } from '../../../lib/auth/iam/http-sts-client.js';
import { type IamJoinOptions, iamJoinMethod } from '../../../lib/auth/iam/iam-join-method.js';
import { issueJoinChallenge } from '../../../lib/auth/iam/join-challenges.js';
import type { StsCaller } from '../../../lib/auth/iam/sts-caller.js';
import { COLLECTION } from '../../../lib/auth/resource-store.js';
import { MemoryBackend } from '../../../lib/auth/storage/memory-backend.js';
import type { StorageBackend } from '../../../lib/auth/storage/storage-backend.js';
import { signGetCallerIdentity } from '../../../lib/bot/iam/sign-get-caller-identity.js';
import { ManualClock } from '../../../lib/core/clock.js';
import { silentLogger } from '../../../lib/core/logger.js';
import { secureRandom } from '../../../lib/core/random.js';
import { CountingBackend } from '../../support/counting-backend.js';
import { type StsEmulator, type StsIdentity, startStsEmulator } from '../../support/sts-emulator.js';
import { MemoryCaStore, newPublicKeyPem, ROLES, START } from '../auth-fixture.js';

export const CLUSTER = 'example.test';
export const ACCOUNT = '123456789012';
export const OTHER_ACCOUNT = '210987654321';
export const CI_ROLE_RULE = `arn:aws:sts::${ACCOUNT}:assumed-role/ci-role/*`;
export const BODY = 'Action=GetCallerIdentity&Version=2011-06-15';
export const HOST = 'sts.us-east-1.amazonaws.com';

function roleSession(
  id: string,
  account: string,
  role: string,
  session: string,
  partition = 'aws',
): StsIdentity {
  return {
    accessKeyId: `ASIA${id.padEnd(16, '0')}`,
    secretAccessKey: `secret-of-${id}-${'x'.repeat(24)}`,
    sessionToken: `session-token-of-${id}`,
    arn: `arn:${partition}:sts::${account}:assumed-role/${role}/${session}`,
    account,
    userId: `AROA${role
      .toUpperCase()
      .replace(/[^A-Z0-9]/g, '')
      .padEnd(16, '7')}:${session}`,
  };
}

/** Principals the STS emulator knows. Secrets are test values, valid nowhere else. */
export const IDENTITIES = {
  session1: roleSession('SESSIONONE', ACCOUNT, 'ci-role', 'session-1'),
  session2: roleSession('SESSIONTWO', ACCOUNT, 'ci-role', 'session-2'),
  otherRole: roleSession('OTHERROLE', ACCOUNT, 'deploy-role', 'session-1'),
  otherAccount: roleSession('OTHERACCOUNT', OTHER_ACCOUNT, 'ci-role', 'session-1'),
  chinaArn: roleSession('CHINA', ACCOUNT, 'ci-role', 'session-1', 'aws-cn'),
  user: {
    accessKeyId: 'AKIAUSERALICE0000001',
    secretAccessKey: 'secret-of-alice-xxxxxxxxxxxxxxxxxxxxxxx',
    arn: `arn:aws:iam::${ACCOUNT}:user/alice`,
    account: ACCOUNT,
    userId: 'AIDAUSERALICE0000001',
  },
  federated: {
    accessKeyId: 'ASIAFEDERATEDBOB0001',
    secretAccessKey: 'secret-of-bob-xxxxxxxxxxxxxxxxxxxxxxxxx',
    sessionToken: 'session-token-of-bob',
    arn: `arn:aws:sts::${ACCOUNT}:federated-user/bob`,
    account: ACCOUNT,
    userId: `${ACCOUNT}:bob`,
  },
  root: {
    accessKeyId: 'AKIAROOT000000000001',
    secretAccessKey: 'secret-of-root-xxxxxxxxxxxxxxxxxxxxxxxx',
    arn: `arn:aws:iam::${ACCOUNT}:root`,
    account: ACCOUNT,
    userId: ACCOUNT,
  },
} satisfies Record<string, StsIdentity>;

export function credentialsOf(identity: StsIdentity) {
  return {
    accessKeyId: identity.accessKeyId,
    secretAccessKey: identity.secretAccessKey,
    ...(identity.sessionToken === undefined ? {} : { sessionToken: identity.sessionToken }),
  };
}

export function iamToken(
  name: string,
  botName: string,
  allow: Array<{ aws_account: string; aws_arn?: string; aws_role_id?: string }>,
  expires?: string,
) {
  return {
    kind: 'token',
    version: 'v2',
    metadata: { name, ...(expires === undefined ? {} : { expires }) },
    spec: { roles: ['Bot'], join_method: 'iam', bot_name: botName, allow },
  };
}

export function bot(name: string, roles: string[] = ['ops']) {
  return { kind: 'bot', version: 'v1', metadata: { name }, spec: { roles } };
}

export interface SignForOptions {
  readonly identity?: StsIdentity;
  readonly challenge?: string | null;
  readonly clusterName?: string | null;
  readonly host?: string;
  readonly url?: string;
  readonly region?: string;
  readonly service?: string;
  readonly method?: string;
  readonly body?: string;
  readonly unsignable?: readonly string[];
}

export interface IamFixture {
  readonly service: AuthService;
  readonly clock: ManualClock;
  readonly storage: StorageBackend;
  readonly emulator: StsEmulator;
  /**
   * The hosts the service asked its STS caller to reach, in order: where it would connect in
   * production (the tests' loopback override only replaces the address it dials).
   */
  readonly stsTargets: readonly string[];
  /** A fresh challenge from the service. */
  challenge(): Promise<string>;
  /** Signed like the agent does (the real agent code). */
  sign(identity?: StsIdentity, challenge?: string): Promise<SignedStsRequest>;
  /** Signed by hand with the SDK signer, for requests the agent would never make. */
  signFor(options: SignForOptions): Promise<SignedStsRequest>;
  join(iam: SignedStsRequest | undefined, extra?: Partial<JoinRequest>): Promise<BotIdentityResponse>;
  lastJoinEvent(): Promise<RecordedAuditEvent | undefined>;
  /**
   * Every stored item but the audit log and the IAM challenges (which a refusal may spend), as text:
   * what a refused join must leave as it was.
   */
  storedState(): Promise<string>;
  /** `storedState()` after the fixture was set up, a join last succeeded through `join`, or `settleState`. */
  stateAfterLastSuccess(): string;
  /** Takes the stored state as it is now for the one a refusal must leave: after a test's own changes. */
  settleState(): Promise<void>;
  close(): Promise<void>;
}

export interface IamFixtureOptions {
  readonly storage?: (clock: ManualClock) => StorageBackend;
  readonly iam?: Omit<IamJoinOptions, 'sts' | 'stsEndpointOverrideForTests'>;
  readonly allow?: Array<{ aws_account: string; aws_arn?: string; aws_role_id?: string }>;
}

/**
 * An auth service with the iam join method, whose STS calls go to a local emulator that verifies the
 * signatures for real. One clock drives the service, its storage and the emulator.
 */
export async function createIamFixture(options: IamFixtureOptions = {}): Promise<IamFixture> {
  const clock = new ManualClock(START);
  const storage = options.storage?.(clock) ?? new MemoryBackend(clock);
  const emulator = await startStsEmulator({
    identities: Object.values(IDENTITIES),
    clock: () => clock.now(),
  });
  // The real HTTP client, dialling the emulator; what it was asked to reach is recorded first.
  const sender = new HttpStsClient({
    stsEndpointOverrideForTests: emulator.url,
    ...(options.iam?.stsTimeoutMs === undefined ? {} : { timeoutMs: options.iam.stsTimeoutMs }),
  });
  const stsTargets: string[] = [];
  const service = await AuthService.create({
    clusterName: CLUSTER,
    suite: 'balanced',
    storage,
    caStore: new MemoryCaStore(),
    clock,
    random: secureRandom,
    logger: silentLogger,
    joinMethods: [iamJoinMethod({ ...options.iam, sts: recordTargets(sender, stsTargets) })],
  });
  await service.admin.putResources(ROLES, false, 'test');
  await service.admin.putResources(
    [
      bot('robot'),
      iamToken('ci-token', 'robot', options.allow ?? [{ aws_account: ACCOUNT, aws_arn: CI_ROLE_RULE }]),
    ],
    false,
    'test',
  );
  const challenge = async () => (await issueJoinChallenge(service.context)).challenge;
  // Read past a counting wrapper: the tests that count a join's storage calls count only the join's.
  const uncounted = storage instanceof CountingBackend ? storage.inner : storage;
  // Collection by collection: DynamoDB lists one partition at a time. The audit log (`events/`) and the
  // IAM challenges, which a refusal may spend, are left out.
  const collections = [
    ...Object.values(COLLECTION),
    'instances',
    'iam_instances',
    'consumed_tokens',
    'nonces',
  ];
  const storedState = async () => {
    const items = await Promise.all(collections.map((collection) => uncounted.list(`${collection}/`)));
    return JSON.stringify(items.flat().map(({ key, value }) => [key, value]));
  };
  let stateAfterLastSuccess = await storedState();
  const fixture: IamFixture = {
    service,
    clock,
    storage,
    emulator,
    stsTargets,
    challenge,
    async sign(identity = IDENTITIES.session1, given) {
      return signGetCallerIdentity({
        region: 'us-east-1',
        challenge: given ?? (await challenge()),
        clusterName: CLUSTER,
        credentials: credentialsOf(identity),
        clock,
      });
    },
    async signFor(o) {
      const identity = o.identity ?? IDENTITIES.session1;
      const host = o.host ?? HOST;
      const headers: Record<string, string> = {
        host,
        'content-type': 'application/x-www-form-urlencoded; charset=utf-8',
      };
      const challengeValue = o.challenge === undefined ? await challenge() : o.challenge;
      if (challengeValue !== null) headers['x-mid-challenge'] = challengeValue;
      const clusterName = o.clusterName === undefined ? CLUSTER : o.clusterName;
      if (clusterName !== null) headers['x-mid-cluster-name'] = clusterName;
      const signer = new SignatureV4({
        service: o.service ?? 'sts',
        region: o.region ?? 'us-east-1',
        credentials: credentialsOf(identity),
        sha256: Sha256,
      });
      const signed = await signer.sign(
        new HttpRequest({
          method: o.method ?? 'POST',
          protocol: 'https:',
          hostname: host,
          path: '/',
          headers,
          body: o.body ?? BODY,
        }),
        {
          signingDate: new Date(clock.now()),
          ...(o.unsignable === undefined ? {} : { unsignableHeaders: new Set(o.unsignable) }),
        },
      );
      return {
        method: o.method ?? 'POST',
        url: o.url ?? `https://${host}/`,
        headers: Object.entries(signed.headers as Record<string, string>),
        body: o.body ?? BODY,
      };
    },
    async join(iam, extra = {}) {
      const joined = await service.join.join(
        {
          join_method: 'iam',
          token: 'ci-token',
          public_key: newPublicKeyPem(),
          ...(iam === undefined ? {} : { iam }),
          ...extra,
        },
        { requestId: 'test' },
      );
      stateAfterLastSuccess = await storedState();
      return joined;
    },
    async lastJoinEvent() {
      return (await service.admin.events({ type: 'bot.join', limit: 1 }))[0];
    },
    storedState,
    stateAfterLastSuccess: () => stateAfterLastSuccess,
    async settleState() {
      stateAfterLastSuccess = await storedState();
    },
    close: () => emulator.stop(),
  };
  return fixture;
}

/** Header helpers: the signed request keeps its headers as a list of pairs. */
export function withHeader(request: SignedStsRequest, name: string, value: string): SignedStsRequest {
  return { ...request, headers: [...request.headers, [name, value]] };
}

export function withoutHeader(request: SignedStsRequest, name: string): SignedStsRequest {
  return { ...request, headers: request.headers.filter(([n]) => n.toLowerCase() !== name) };
}

export function replacingHeader(request: SignedStsRequest, name: string, value: string): SignedStsRequest {
  return {
    ...request,
    headers: request.headers.map(([n, v]) => (n.toLowerCase() === name ? [n, value] : [n, v])),
  };
}

export function headerOf(request: SignedStsRequest, name: string): string | undefined {
  return request.headers.find(([n]) => n.toLowerCase() === name)?.[1];
}

/** An STS caller that notes the host of each request before `sender` sends it. */
function recordTargets(sender: StsCaller, targets: string[]): StsCaller {
  return {
    send(request) {
      targets.push(request.host);
      return sender.send(request);
    },
  };
}
