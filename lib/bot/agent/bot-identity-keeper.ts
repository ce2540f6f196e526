import type { BotIdentityResponse } from '../../api/bot-identity.js';
import type { Clock } from '../../core/clock.js';
import { ConfigError, JoinError, MidError, StorageError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { parsePrivateKeyPem, privateKeyToPem, publicKeyToPem } from '../../pki/key-encoding.js';
import { generateKeyPair } from '../../pki/signature-suite.js';
import { type SigningIdentity, signingIdentity } from '../auth-client/bot-api-client.js';
import { BotRunError } from './bot-run-error.js';
import type { ClusterConnection } from './cluster-connection.js';
import { otherBotJoinedLine } from './daemon-log-lines.js';
import type { IdentityStore } from './identity-store.js';
import type { JoinProofProvider } from './join-proof-provider.js';
import type { StoredIdentity } from './stored-identity.js';

/** The bot's identity for one run, and how it was obtained (`kept`: the one the last run obtained). */
export interface CurrentIdentity {
  readonly identity: BotIdentityResponse;
  readonly signing: SigningIdentity;
  readonly obtained: 'joined' | 'renewed' | 'kept';
}

/** Refusals that mean this identity is finished: only a fresh join (with a new token) helps. */
export const IDENTITY_GONE: ReadonlySet<string> = new Set([
  'generation_mismatch',
  'instance_locked',
  'instance_not_found',
  'bot_not_found',
  'certificate_expired',
  'not_renewable',
]);

/** Refusals of the token itself. */
const TOKEN_REFUSED = new Set(['token_already_used', 'token_not_found', 'token_expired']);

/*
 * The advice midbot adds to a refusal. The auth service's message says what happened and what an
 * operator does about it, for any caller of its API; midbot adds only what the service cannot know:
 * the bot's name when the service could not name it, and where midbot takes a token. So no advice
 * appears twice.
 */

const WHERE_TOKEN_GOES = 'with --token (or MID_BOT_TOKEN) or onboarding.token';

/** No token is configured, which the service never learns of: the whole advice is midbot's. */
function tokenRequiredHint(botName: string): string {
  return `Create a new join token with \`midctl tokens add --type=bot --bot-name=${botName}\` and pass it ${WHERE_TOKEN_GOES}.`;
}

/**
 * A join refused the token: the service said why and how to get a new one, but not for which bot (a
 * spent or unknown token names none).
 */
function refusedTokenHint(botName: string | undefined): string {
  return botName === undefined
    ? `Pass the new token ${WHERE_TOKEN_GOES}.`
    : `The bot is "${botName}"; pass its new token ${WHERE_TOKEN_GOES}.`;
}

/**
 * A spent token, while this process keeps the identity in memory: the service's advice to restart from
 * saved storage does not apply, as nothing is saved; what does is a new token, and storage that spares
 * the next restart one.
 */
function spentTokenWithoutStorage(botName: string | undefined, refusal: unknown): JoinError {
  return new JoinError(
    'token_already_used',
    `this join token was already used, and join tokens are single use. This run keeps the bot identity in memory only (no --data-dir, or storage: memory), so there is no saved identity to restart from: create a new token with \`midctl tokens add --type=bot --bot-name=${botName ?? 'NAME'}\` and pass it ${WHERE_TOKEN_GOES}. With --data-dir DIR (or storage: directory) midbot saves its identity there, and a restart resumes from it without a token.`,
    { cause: refusal },
  );
}

/** A renewal refusal ended the identity: the service said to join again, midbot says how. */
function identityGoneHint(botName: string, code: string): string {
  // A deleted bot takes its tokens with it: `tokens add` would be refused; the bot must be made again.
  if (code === 'bot_not_found')
    return `An operator re-creates it with \`midctl bots add ${botName} --roles=...\`, which prints a new join token; pass it ${WHERE_TOKEN_GOES}.`;
  return `For a new join token: \`midctl tokens add --type=bot --bot-name=${botName}\`; pass it ${WHERE_TOKEN_GOES}.`;
}

/** Why the stored identity cannot be renewed, for the log and, without a token, for the refusal. */
interface ReasonToJoin {
  readonly log: string;
  /** `warn` when something is wrong that a person may want to look at (unreadable storage). @default info */
  readonly level?: 'warn';
  /** Added to the log line. */
  readonly fields?: Readonly<Record<string, string>>;
  /** The cause as a clause, e.g. `the stored identity expired at …`. */
  readonly why: string;
  /** Put before the auth service's answer when the join is refused. */
  readonly context?: string;
}

/**
 * Keeps the bot's own renewable identity: loads it from storage, renews it (token-joined identities) or
 * joins (first run, expired identity, changed token, IAM), and saves every new identity before anything
 * else uses it. The auth service locks an instance when a certificate of an older generation shows up,
 * so an identity, once renewed, is never presented again: the renewed one is held in memory until it is
 * saved, and a failed save is retried before the next renewal.
 */
export class BotIdentityKeeper {
  private current: StoredIdentity | undefined;
  /** How `current` was obtained while it is not saved yet. */
  private unsaved: 'joined' | 'renewed' | undefined;
  private loaded = false;
  /** Whether a refresh of this process succeeded: only then is `current` known to be usable. */
  private refreshed = false;
  /** Why the identity in storage could not be read, when it could not. */
  private unreadable: string | undefined;

  /**
   * @param proof how to join; undefined when no token is configured (`--token` left out on a restart):
   *   the keeper then only renews what storage holds, and says a token is needed when it cannot.
   * @param checkBeforeSpendingToken runs before a join that spends the single-use token (the `token`
   *   method), and refuses it by throwing: the agent checks there that its outputs can be written, since
   *   a token spent on a run that writes nothing is lost whenever storage is memory.
   * @param identityTtlMs how long the bot's own identity should live: as long as its certificates at
   *   least, so that it outlives an outage as long as the outputs do (the roles may cap it).
   */
  constructor(
    private readonly store: IdentityStore,
    private readonly proof: JoinProofProvider | undefined,
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly checkBeforeSpendingToken: () => Promise<void> = async () => {},
    private readonly identityTtlMs?: number,
  ) {}

  /** What the join and renewal requests ask for the identity's lifetime. */
  private ttlRequest(): { ttl_seconds?: number } {
    return this.identityTtlMs === undefined ? {} : { ttl_seconds: Math.ceil(this.identityTtlMs / 1000) };
  }

  /**
   * The identity a refresh of this process obtained and saved, while it stays valid for `marginMs` more:
   * for a retry of the outputs that failed, which need no new identity. Undefined otherwise (nothing
   * obtained yet, not saved, or about to expire), and then the run refreshes.
   */
  held(marginMs: number): CurrentIdentity | undefined {
    const current = this.current;
    if (!this.refreshed || current === undefined || this.unsaved !== undefined) return undefined;
    if (Date.parse(current.identity.expires_at) - this.clock.now() < marginMs) return undefined;
    return { identity: current.identity, signing: signingOf(current), obtained: 'kept' };
  }

  /**
   * When the identity in storage expires, if storage holds one that can be read: what a daemon that
   * starts during an outage has to renew before.
   */
  async storedExpiry(): Promise<number | undefined> {
    try {
      const stored = await this.load();
      return stored === undefined ? undefined : Date.parse(stored.identity.expires_at);
    } catch {
      // Unreadable storage is reported by the run that needs it.
      return undefined;
    }
  }

  /** The identity to use for this run: renewed or freshly joined, and already saved. */
  async refresh(connection: ClusterConnection): Promise<CurrentIdentity> {
    if (this.unsaved !== undefined && this.current !== undefined) await this.save(this.current, this.unsaved);
    // Before anything that cannot be undone: a join spends the token, a renewal retires the stored identity.
    await this.store.checkWritable?.();
    const stored = await this.load();
    const reason = this.reasonToJoin(stored, connection);
    const next =
      reason === undefined && stored !== undefined
        ? await this.renew(stored, connection)
        : await this.join(stored, connection, reason);
    this.refreshed = true;
    return { identity: next.stored.identity, signing: next.signing, obtained: next.obtained };
  }

  /** What is in storage (once per process; afterwards what this keeper holds is newer). */
  private async load(): Promise<StoredIdentity | undefined> {
    if (this.loaded) return this.current;
    try {
      this.current = await this.store.load();
    } catch (error) {
      if (!(error instanceof StorageError && error.code === 'invalid_stored_identity')) {
        throw new BotRunError('loading the stored identity', error);
      }
      // Said when the run knows what follows: a join with the token, or a refusal for want of one.
      this.current = undefined;
      this.unreadable = error.message;
    }
    this.loaded = true;
    return this.current;
  }

  /** Why the stored identity cannot be renewed, or undefined when it can. */
  private reasonToJoin(
    stored: StoredIdentity | undefined,
    connection: ClusterConnection,
  ): ReasonToJoin | undefined {
    if (stored === undefined && this.unreadable !== undefined) {
      return {
        log: 'The stored bot identity cannot be read; joining again with the token',
        level: 'warn',
        fields: { storage: this.store.describe(), reason: this.unreadable },
        why: `the bot identity stored in ${this.store.describe()} cannot be read (${this.unreadable})`,
      };
    }
    if (stored === undefined) {
      return {
        log: 'No stored identity; joining the cluster',
        why: `${this.store.describe()} holds no bot identity yet`,
      };
    }
    const { identity } = stored;
    if (identity.cluster_name !== connection.ping.cluster_name) {
      return {
        log: `The stored identity belongs to cluster "${identity.cluster_name}", not "${connection.ping.cluster_name}"; joining the cluster`,
        why: `the identity in ${this.store.describe()} belongs to cluster "${identity.cluster_name}", and this auth service runs cluster "${connection.ping.cluster_name}"`,
      };
    }
    // Without a token there is nothing to compare: the stored identity is the one to continue.
    if (this.proof !== undefined && stored.onboardingFingerprint !== this.proof.fingerprint) {
      return {
        log: 'The join token changed since the stored identity was issued; joining with the new token',
        why: 'the join token changed',
      };
    }
    if (Date.parse(identity.expires_at) <= this.clock.now()) {
      return {
        log: `The stored identity expired at ${identity.expires_at}; joining again with the token`,
        why: `the identity of bot "${identity.bot_name}" in ${this.store.describe()} expired at ${identity.expires_at}`,
        context: `the stored identity of bot "${identity.bot_name}" expired at ${identity.expires_at}, so midbot joined again with the token, and the auth service answered: `,
      };
    }
    if (!identity.renewable) {
      return {
        log: 'Joining again (identities of this join method are not renewed)',
        why: `the identity in ${this.store.describe()} came from a join method whose identities are not renewed (iam)`,
      };
    }
    return undefined;
  }

  private async renew(
    stored: StoredIdentity,
    connection: ClusterConnection,
  ): Promise<{ stored: StoredIdentity; signing: SigningIdentity; obtained: 'renewed' }> {
    this.logger.debug('Renewing the bot identity', {
      instance: stored.identity.instance_id,
      generation: stored.identity.generation,
      expires_at: stored.identity.expires_at,
    });
    const keys = generateKeyPair(connection.ping.signature_suite, 'subject');
    let response: BotIdentityResponse;
    try {
      response = await connection.client.renew(signingOf(stored), {
        public_key: publicKeyToPem(keys.publicKey),
        ...this.ttlRequest(),
      });
    } catch (error) {
      const gone = error instanceof MidError && IDENTITY_GONE.has(error.code);
      throw new BotRunError(
        'renewing the bot identity',
        error,
        gone ? { hint: identityGoneHint(stored.identity.bot_name, (error as MidError).code) } : {},
      );
    }
    const next: StoredIdentity = {
      identity: response,
      privateKeyPem: privateKeyToPem(keys.privateKey),
      onboardingFingerprint: stored.onboardingFingerprint,
    };
    this.hold(next, 'renewed');
    await this.save(next, 'renewed');
    this.logger.info('Renewed the bot identity', {
      bot: response.bot_name,
      instance: response.instance_id,
      generation: response.generation,
      expires_at: response.expires_at,
    });
    // Signs with the key in hand: reading it back from its PEM costs more than the signature.
    return {
      stored: next,
      signing: signingIdentity(response.tls_cert, keys.privateKey),
      obtained: 'renewed',
    };
  }

  private async join(
    stored: StoredIdentity | undefined,
    connection: ClusterConnection,
    reason: ReasonToJoin | undefined,
  ): Promise<{ stored: StoredIdentity; signing: SigningIdentity; obtained: 'joined' }> {
    const proof = this.proof;
    if (proof === undefined) {
      throw new BotRunError(
        'resuming the stored identity',
        new ConfigError(
          'join_token_required',
          `${reason?.why ?? 'the stored identity cannot be renewed'}, so midbot must join the cluster, and joining needs a join token`,
        ),
        { hint: this.tokenRequiredHint(stored) },
      );
    }
    if (proof.method === 'token') await this.checkBeforeSpendingToken();
    if (reason !== undefined) {
      const fields = { ...reason.fields, join_method: proof.method };
      if (reason.level === 'warn') this.logger.warn(reason.log, fields);
      else this.logger.info(reason.log, fields);
    }
    const step = `joining the cluster with the ${proof.method === 'token' ? 'join token' : `${proof.method} join method`}`;
    const keys = generateKeyPair(connection.ping.signature_suite, 'subject');
    // An IAM identity still valid continues its instance instead of starting a new one.
    const previous =
      stored !== undefined &&
      !stored.identity.renewable &&
      stored.identity.cluster_name === connection.ping.cluster_name &&
      Date.parse(stored.identity.expires_at) > this.clock.now()
        ? { previous_certificate: stored.identity.tls_cert }
        : {};
    let response: BotIdentityResponse;
    try {
      const proven = await proof.prove(connection.client, { clusterName: connection.ping.cluster_name });
      response = await connection.client.join({
        ...proven,
        public_key: publicKeyToPem(keys.publicKey),
        ...previous,
        ...this.ttlRequest(),
      });
    } catch (error) {
      const context = reason?.context === undefined ? {} : { context: reason.context };
      const code = error instanceof MidError ? error.code : undefined;
      if (code === 'token_already_used' && this.store.lostOnExit === true) {
        throw new BotRunError(step, spentTokenWithoutStorage(stored?.identity.bot_name, error), context);
      }
      const refused = code !== undefined && TOKEN_REFUSED.has(code);
      throw new BotRunError(step, error, {
        ...context,
        ...(refused ? { hint: refusedTokenHint(stored?.identity.bot_name) } : {}),
      });
    }
    const next: StoredIdentity = {
      identity: response,
      privateKeyPem: privateKeyToPem(keys.privateKey),
      onboardingFingerprint: proof.fingerprint,
    };
    this.hold(next, 'joined');
    await this.save(next, 'joined');
    this.logger.info(`Joined the cluster as bot "${response.bot_name}"`, {
      cluster: response.cluster_name,
      instance: response.instance_id,
      generation: response.generation,
      roles: response.roles.join(','),
      expires_at: response.expires_at,
    });
    // A token of another bot given to this storage: not wrong in itself, but whoever made the
    // mistake should hear that every output now carries the other bot's certificates.
    const otherBot =
      stored === undefined ? undefined : otherBotJoinedLine(this.store.describe(), stored.identity, response);
    if (otherBot !== undefined) this.logger.warn(otherBot.line, otherBot.fields);
    return { stored: next, signing: signingIdentity(response.tls_cert, keys.privateKey), obtained: 'joined' };
  }

  /** How to get the token a join needs, when none is configured. */
  private tokenRequiredHint(stored: StoredIdentity | undefined): string {
    if (stored !== undefined) return tokenRequiredHint(stored.identity.bot_name);
    // The token that made the unreadable identity was spent by that join.
    if (this.unreadable !== undefined)
      return `${tokenRequiredHint('NAME')} The join replaces the unreadable file.`;
    return `Pass the token printed by \`midctl bots add\` (or a new one from \`midctl tokens add --type=bot --bot-name=NAME\`) ${WHERE_TOKEN_GOES}.`;
  }

  /** From here on the previous identity is dead to the service; only this one may be presented. */
  private hold(next: StoredIdentity, how: 'joined' | 'renewed'): void {
    this.current = next;
    this.loaded = true;
    this.unsaved = how;
  }

  private async save(next: StoredIdentity, how: 'joined' | 'renewed'): Promise<void> {
    try {
      await this.store.save(next);
      this.unsaved = undefined;
    } catch (error) {
      throw new BotRunError('saving the bot identity', error, {
        context: `the auth service ${how === 'renewed' ? 'renewed' : 'issued'} the identity (generation ${next.identity.generation}), but it could not be saved to ${this.store.describe()}: `,
        hint: 'midbot keeps it in memory and saves it before anything else on the next attempt; if midbot stops before then, the copy in storage is outdated and the bot must join again with a new token.',
      });
    }
  }
}

function signingOf(stored: StoredIdentity): SigningIdentity {
  return signingIdentity(stored.identity.tls_cert, parsePrivateKeyPem(stored.privateKeyPem));
}
