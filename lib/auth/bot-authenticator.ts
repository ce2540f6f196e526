import {
  type BotAuthHeaders,
  parseBotAuthHeaders,
  verifyBotRequestSignature,
} from '../api/bot-request-signature.js';
import { AccessDeniedError, AuthenticationError } from '../core/errors.js';
import type { Bot } from '../resources/bot.js';
import { auditedRequest, refusal } from './audit-log.js';
import type { AuthContext, RequestMeta } from './auth-context.js';
import { awaitAll } from './await-all.js';
import { type VerifiedBotCertificate, verifyBotCertificate } from './bot-certificate.js';
import type { BotIdentityName } from './bot-identity-name.js';
import {
  type BotInstanceRecord,
  lockedInstanceCode,
  lockedInstanceMessage,
  type StoredInstance,
} from './bot-instance-store.js';
import { BOT_LOCKED, botLockedMessage, readBotLock } from './bot-locks.js';
import { ReadOnce } from './request-reads.js';
import { SampledAudit } from './sampled-audit.js';

/** How far a signed request's timestamp may be from the service's clock. */
export const REQUEST_FRESHNESS_MS = 5 * 60_000;

export interface BotRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: Readonly<Record<string, string | undefined>>;
  readonly body: Buffer;
}

/**
 * A caller proven to hold the private key of a current bot identity certificate, with the bot and its
 * instance as read for this request: the use case works from these (the instance record at
 * `instanceRevision`, for a compare-and-swap) instead of reading them again.
 */
export interface AuthenticatedBot {
  readonly bot: Bot;
  readonly identity: BotIdentityName;
  readonly instance: BotInstanceRecord;
  readonly instanceRevision: string;
  readonly serialHex: string;
  /** The request's reads: the use case reads through these, finding what was read ahead. */
  readonly reads: ReadOnce;
}

/**
 * Reads a use case will make, started while the caller is authenticated so that they share its round
 * trip: given the request's reads and the roles the caller's certificate names (a hint, see
 * {@link VerifiedBotCertificate.roles}). Called once the request is known to be signed with the key of
 * a certificate this cluster issued, and before anything else about the caller is known.
 */
export type ReadsAhead = (reads: ReadOnce, certificateRoles: readonly string[]) => void;

/**
 * Authenticates calls to the bot routes: certificate chain to the TLS user CA, validity, the bot
 * identity name (output certificates are refused), freshness, the signature over the request with the
 * certificate's key, a single-use nonce, and for renewable identities the generation counter — a stale
 * generation means a copy of an old identity is in use, so the instance is locked (SECURITY rule 7).
 * Every refusal is audited; those of callers who proved no bot key, which anyone can send, in summary.
 */
export class BotAuthenticator {
  /** Refusals of callers who proved no bot key: anyone can send those, as fast as they like. */
  private readonly anonymousRefusals: SampledAudit;

  constructor(private readonly context: AuthContext) {
    this.anonymousRefusals = new SampledAudit(context);
  }

  async authenticate(
    request: BotRequest,
    meta: RequestMeta,
    readsAhead?: ReadsAhead,
  ): Promise<AuthenticatedBot> {
    let identity: BotIdentityName | undefined;
    let provedKey = false;
    const reads = new ReadOnce(this.context.resources, this.context.storage);
    try {
      const headers = parseBotAuthHeaders(request.headers);
      const certificate = verifyBotCertificate(
        headers.certificateDer,
        this.context.cas.tlsUser,
        this.context.clock,
      );
      identity = certificate.identity;
      if (identity.clusterName !== this.context.clusterName) {
        throw new AuthenticationError(
          'wrong_cluster',
          `the certificate belongs to cluster "${identity.clusterName}", not this one`,
        );
      }
      this.checkSignature(request, headers, certificate);
      provedKey = true;
      // One round trip: the nonce is spent while the bot and its instance are read, and what the use
      // case reads ahead with them. Reading is not acting on the request; nothing is checked, written
      // or issued until the nonce is known to be fresh, and a replay is refused as one whatever else
      // was found. A caller refused here (replayed, locked) has still cost those reads: bounded by the
      // roles a certificate can name and ended by its expiry. The items are read each at its own moment,
      // as with the bot and its lock here, not as one snapshot: see the README on swapping locks.
      readsAhead?.(reads, certificate.roles);
      const [, bot, instance, botLock] = await awaitAll([
        this.consumeNonce(headers.nonce, headers.timestamp),
        this.context.resources.get('bot', identity.botName),
        this.context.instances.get(identity.botName, identity.instanceId),
        readBotLock(this.context.storage, identity.botName),
      ]);
      const caller = await this.checkInstance(
        identity,
        bot?.resource,
        instance,
        certificate.serialHex,
        meta,
        reads,
      );
      // After the instance's checks: a copy of an identity is caught (and its instance locked for good)
      // even while its bot is locked.
      if (botLock !== undefined) throw new AccessDeniedError(BOT_LOCKED, botLockedMessage(botLock));
      return caller;
    } catch (error) {
      await reads.settled();
      const event = {
        type: 'bot.authenticate' as const,
        ...refusal(error),
        ...auditedRequest(meta),
        ...(identity === undefined ? {} : { bot: identity.botName, instance: identity.instanceId }),
      };
      // Sampled per kind and bot (a bot name comes only from a certificate the CA signed, so a flood
      // cannot make up keys); a caller holding a bot key is on record call by call.
      if (provedKey) await this.context.audit.record(event);
      else await this.anonymousRefusals.record(`${event.code}/${identity?.botName ?? ''}`, event);
      throw error;
    }
  }

  private checkSignature(
    request: BotRequest,
    headers: BotAuthHeaders,
    certificate: VerifiedBotCertificate,
  ): void {
    const skew = Math.abs(this.context.clock.now() - headers.timestamp);
    if (skew > REQUEST_FRESHNESS_MS) {
      throw new AuthenticationError(
        'stale_request',
        `the request was signed ${Math.round(skew / 1000)} s away from the service's clock (at most ${REQUEST_FRESHNESS_MS / 1000} s); check the clocks`,
      );
    }
    const parts = {
      method: request.method,
      path: request.path,
      timestamp: headers.timestamp,
      nonce: headers.nonce,
      body: request.body,
    };
    if (!verifyBotRequestSignature(parts, headers.signature, certificate.publicKey)) {
      throw new AuthenticationError(
        'bad_signature',
        'the request signature does not match the bot certificate',
      );
    }
  }

  /**
   * Spends the nonce of a request signed at `timestamp`. It is kept for as long as that timestamp
   * passes the freshness check, its last millisecond included (a stored item is gone at its
   * `expiresAt`): kept for a fixed time from now instead, a request signed by a clock ahead would be
   * fresh for one millisecond after its nonce was gone, and could be replayed then.
   */
  private async consumeNonce(nonce: string, timestamp: number): Promise<void> {
    const created = await this.context.storage.create({
      key: `nonces/${nonce}`,
      value: '{}',
      expiresAt: timestamp + REQUEST_FRESHNESS_MS + 1,
    });
    if (created === undefined) {
      throw new AuthenticationError('replayed_request', 'this signed request was already used once');
    }
  }

  private async checkInstance(
    identity: BotIdentityName,
    bot: Bot | undefined,
    found: StoredInstance | undefined,
    serialHex: string,
    meta: RequestMeta,
    reads: ReadOnce,
  ): Promise<AuthenticatedBot> {
    if (bot === undefined) {
      throw new AccessDeniedError('bot_not_found', `bot "${identity.botName}" was deleted`);
    }
    if (found === undefined) {
      throw new AccessDeniedError(
        'instance_not_found',
        `bot instance ${identity.instanceId} was removed; the bot must join again`,
      );
    }
    const { record, revision } = found;
    const stale = record.renewable && identity.generation !== record.generation;
    // A copy of the identity shows up even while an operator has the instance locked: the service's
    // lock (which no unlock lifts) then takes the operator's place, so that the copy is not lost from
    // sight behind a lock someone means to lift.
    if (record.locked !== undefined && (record.locked.by === undefined || !stale)) {
      throw new AccessDeniedError(
        lockedInstanceCode(record.locked),
        lockedInstanceMessage(record, record.locked, 'join again with a new token'),
      );
    }
    if (stale) {
      await this.lock(
        found,
        `a certificate of generation ${identity.generation} was used after generation ${record.generation} was issued`,
      );
      await this.context.audit.record({
        type: 'bot.lock',
        outcome: 'success',
        code: 'generation_mismatch',
        bot: identity.botName,
        instance: identity.instanceId,
        serials: [serialHex],
        ...auditedRequest(meta),
        message: `presented generation ${identity.generation}, current ${record.generation}`,
      });
      throw new AccessDeniedError(
        'generation_mismatch',
        'this bot identity was renewed since this certificate was issued, so a copy of it is in use elsewhere; the instance is now locked. Join again with a new token',
      );
    }
    return { bot, identity, instance: record, instanceRevision: revision, serialHex, reads };
  }

  private async lock(found: StoredInstance, reason: string): Promise<void> {
    const at = new Date(this.context.clock.now()).toISOString();
    await this.context.instances.updateFrom(found, (current) => ({ ...current, locked: { at, reason } }));
  }
}
