import { type KeyObject, X509Certificate } from 'node:crypto';
import type { BotIdentityResponse } from '../../lib/api/bot-identity.js';
import { signBotRequest } from '../../lib/api/bot-request-signature.js';
import type { OutputCertificatesRequest } from '../../lib/api/output-certificates.js';
import { ROUTES } from '../../lib/api/routes.js';
import { AuthService } from '../../lib/auth/auth-service.js';
import type { BotRequest } from '../../lib/auth/bot-authenticator.js';
import type { CaStore, StoredCas } from '../../lib/auth/certificate-authorities.js';
import { renewalReadsAhead } from '../../lib/auth/identity-renewal.js';
import { outputReadsAhead } from '../../lib/auth/output-issuance.js';
import { MemoryBackend } from '../../lib/auth/storage/memory-backend.js';
import type { StorageBackend } from '../../lib/auth/storage/storage-backend.js';
import { type Clock, ManualClock } from '../../lib/core/clock.js';
import { silentLogger } from '../../lib/core/logger.js';
import { type Random, secureRandom } from '../../lib/core/random.js';
import { publicKeyToPem } from '../../lib/pki/key-encoding.js';
import { generateKeyPair } from '../../lib/pki/signature-suite.js';

/** CAs kept in memory: a test's cluster lives as long as the test. */
export class MemoryCaStore implements CaStore {
  private cas: StoredCas | undefined;
  async load() {
    return this.cas;
  }
  async createIfAbsent(cas: StoredCas) {
    this.cas ??= cas;
    return this.cas;
  }
}

export const START = Date.parse('2026-11-21T12:00:00Z');

export const ROLES = [
  {
    kind: 'role',
    version: 'v7',
    metadata: { name: 'ops' },
    spec: {
      allow: { logins: ['root', '{{internal.logins}}'], node_labels: { env: 'prod' } },
      options: { max_session_ttl: '2h' },
    },
  },
  {
    kind: 'role',
    version: 'v7',
    metadata: { name: 'apps' },
    spec: { allow: { app_labels: { team: 'payments' } } },
  },
  {
    kind: 'role',
    version: 'v7',
    metadata: { name: 'kube' },
    spec: {
      allow: { kubernetes_labels: { '*': '*' }, kubernetes_groups: ['viewers'], kubernetes_users: ['alice'] },
    },
  },
  {
    kind: 'role',
    version: 'v7',
    metadata: { name: 'hosts' },
    spec: { allow: { rules: [{ resources: ['host_cert'], verbs: ['create'] }] } },
  },
];

export interface Fixture {
  readonly service: AuthService;
  readonly clock: ManualClock;
  readonly storage: StorageBackend;
  addBot(name: string, roles: string[], logins?: string[]): Promise<string>;
  join(token: string): Promise<{ identity: BotIdentityResponse; signer: Signer }>;
}

export interface Signer {
  readonly identity: BotIdentityResponse;
  request(path: string, body: unknown, overrides?: { timestamp?: number; nonce?: string }): BotRequest;
}

export function newPublicKeyPem(): string {
  return publicKeyToPem(generateKeyPair('balanced', 'subject').publicKey);
}

let nonceCounter = 0;

/** Signs bot requests the way the agent does, with the identity's key. */
export function makeSigner(identity: BotIdentityResponse, privateKey: KeyObject, clock: Clock): Signer {
  const der = Buffer.from(new X509Certificate(identity.tls_cert).raw);
  return {
    identity,
    request(path, body, overrides = {}) {
      const bytes = Buffer.from(JSON.stringify(body));
      const nonce = overrides.nonce ?? (nonceCounter++).toString(16).padStart(32, '0');
      const timestamp = overrides.timestamp ?? clock.now();
      const headers = signBotRequest(
        { method: 'POST', path, timestamp, nonce, body: bytes },
        der,
        privateKey,
      );
      return { method: 'POST', path, headers, body: bytes };
    },
  };
}

/** An auth service on a fixed clock, with the test roles created. */
export async function createFixture(
  storage: StorageBackend = new MemoryBackend(new ManualClock(START)),
  clock = new ManualClock(START),
  random: Random = secureRandom,
): Promise<Fixture> {
  const service = await AuthService.create({
    clusterName: 'example.test',
    suite: 'balanced',
    storage,
    caStore: new MemoryCaStore(),
    clock,
    random,
    logger: silentLogger,
  });
  await service.admin.putResources(ROLES, false, 'test');
  const join = async (token: string) => {
    const keys = generateKeyPair('balanced', 'subject');
    const identity = await service.join.join(
      { join_method: 'token', token, public_key: publicKeyToPem(keys.publicKey) },
      { requestId: 'test' },
    );
    return { identity, signer: makeSigner(identity, keys.privateKey, clock) };
  };
  return {
    service,
    clock,
    storage,
    join,
    async addBot(name, roles, logins) {
      const added = await service.admin.addBot(
        { name, roles, ...(logins === undefined ? {} : { logins }) },
        'test',
      );
      return added.token.name;
    },
  };
}

/** The app most issuance tests ask for: labels that the `apps` role of {@link ROLES} allows. */
export const GRAFANA_APP = {
  kind: 'app',
  version: 'v3',
  metadata: { name: 'grafana', labels: { team: 'payments' } },
  spec: { uri: 'https://grafana.internal' },
};

/** Issues an output as a bot does: a signed call authenticated, then the use case (a fresh key by default). */
export async function issueOutput(
  fixture: Fixture,
  signer: Signer,
  body: Omit<OutputCertificatesRequest, 'public_key'> & { public_key?: string },
) {
  const request = { public_key: newPublicKeyPem(), ...body };
  const caller = await fixture.service.authenticator.authenticate(
    signer.request(ROUTES.botCertificates, request),
    { requestId: 't' },
    (reads, roles) => outputReadsAhead(reads, roles, [request]),
  );
  return fixture.service.outputs.issue(caller, request, { requestId: 't' });
}

/** Renews like the agent: a fresh key, and a signer for the new identity. */
export async function renewIdentity(fixture: Fixture, signer: Signer): Promise<Signer> {
  const keys = generateKeyPair('balanced', 'subject');
  const request = { public_key: publicKeyToPem(keys.publicKey) };
  const caller = await fixture.service.authenticator.authenticate(
    signer.request(ROUTES.botRenew, request),
    { requestId: 't' },
    renewalReadsAhead,
  );
  const identity = await fixture.service.renew(caller, request, { requestId: 't' });
  return makeSigner(identity, keys.privateKey, fixture.clock);
}
