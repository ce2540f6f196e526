import type { KeyObject } from 'node:crypto';
import type { BotIdentityResponse } from '../api/bot-identity.js';
import type { JoinRequest } from '../api/join.js';
import { JoinError } from '../core/errors.js';
import { randomUuid } from '../core/random.js';
import { parseSubjectPublicKey } from '../pki/subject-public-key.js';
import { type Bot, botUserName, MAX_BOT_NAME } from '../resources/bot.js';
import type { Token } from '../resources/token.js';
import { auditedRequest, refusal, tokenFingerprint } from './audit-log.js';
import type { AuthContext, RequestMeta } from './auth-context.js';
import { awaitAll } from './await-all.js';
import { issueBotIdentity } from './bot-identity-issuer.js';
import {
  type BotInstanceRecord,
  type InstanceAuthentication,
  lockedInstanceCode,
  lockedInstanceMessage,
  pushBounded,
  type StoredInstance,
} from './bot-instance-store.js';
import { BOT_LOCKED, type BotLock, botLockedMessage } from './bot-locks.js';
import { consumedToken } from './consumed-tokens.js';
import { type JoinReads, ReadOnce } from './request-reads.js';
import type { Revisioned } from './resource-store.js';
import { ROLE_LOCKED, type RoleLock, roleLockedMessage } from './role-locks.js';
import { resolveRoleSet } from './role-resolver.js';
import type { RoleSet } from './role-set.js';

/**
 * What a join method proved: the method checks its own proof (consuming a single-use token, or
 * validating a signed STS request) and says which instance the join continues, if any.
 */
export interface JoinProof {
  readonly awsArn?: string;
  readonly awsAccount?: string;
  /**
   * An existing instance this join continues (IAM identities keep one instance per role session ARN),
   * as the method read it: the join swaps it at this revision instead of reading it again.
   */
  readonly continueInstance?: StoredInstance;
}

export interface JoinMethod {
  readonly name: 'token' | 'iam';
  /**
   * Starts a join: checks what needs no I/O and reads what the proof needs, changing nothing. It starts
   * while the service reads the token (`token` settles with it: a method reads alongside what does not
   * depend on the token) and may warm `reads` with what it expects the service to read next (the bot
   * a presented certificate names). The service reads the bot, and calls `prove` only if it is found.
   * Throws JoinError on refusal.
   */
  begin(
    context: AuthContext,
    token: Promise<Revisioned<Token>>,
    request: JoinRequest,
    reads: JoinReads,
  ): Promise<StartedJoin>;
  /** Called once the instance exists, so the method can index it (IAM: ARN → instance). */
  remember?(context: AuthContext, token: Token, proof: JoinProof, instanceId: string): Promise<void>;
}

/** A join a method has begun: what it read, ready to be spent. */
export interface StartedJoin {
  /**
   * Checks the proof and consumes whatever must be single use. Throws JoinError on refusal.
   *
   * `admitted` settles once the bot's roles are read (rejecting when one is missing). Nothing costly
   * may be spent and nobody called before it resolves: a token is only consumed after, so that a
   * misconfigured bot does not burn it. A method may spend what is cheap to get again alongside the
   * roles read (an IAM challenge, which the agent asks for on every join), to save a round trip.
   */
  prove(admitted: Promise<unknown>): Promise<JoinProof>;
}

const UNKNOWN_TOKEN =
  'the join token is unknown or was deleted; ask an operator for a new one (`midctl bots add` or `midctl tokens add --type=bot --bot-name=NAME`)';

/** The `POST /v1/join` use case: token lookup, the method's proof, a bot instance, and its identity. */
export class JoinService {
  private readonly methods: Map<string, JoinMethod>;

  constructor(
    private readonly context: AuthContext,
    methods: readonly JoinMethod[],
  ) {
    this.methods = new Map(methods.map((method) => [method.name, method]));
  }

  async join(request: JoinRequest, meta: RequestMeta): Promise<BotIdentityResponse> {
    // The token is audited by fingerprint until it is known to be an iam token, whose name is no
    // secret (it names a set of allow rules): a token-method secret sent as an iam join, or any name
    // that is not found, must not land in the audit log.
    let tokenRef: { token_fingerprint: string } | { token_name: string } = {
      token_fingerprint: tokenFingerprint(request.token),
    };
    const base = { type: 'bot.join' as const, join_method: request.join_method, ...auditedRequest(meta) };
    let bot: string | undefined;
    try {
      // The token is read while the method reads what its proof needs (an IAM challenge), then the bot,
      // then its roles while the method spends what is cheap to get again (see StartedJoin.prove).
      // Refusals come in that order too, as if each step ran after the other, and a token is only
      // consumed once the roles are found. The identity is issued with these roles, not read again.
      const reads = new ReadOnce(this.context.resources, this.context.storage);
      const tokenRead = this.findToken(request, reads).then((token) => {
        if (token.resource.spec.join_method === 'iam') tokenRef = { token_name: request.token };
        return token;
      });
      const method = this.methods.get(request.join_method);
      const beginning =
        method === undefined ? undefined : method.begin(this.context, tokenRead, request, reads);
      const [token, started] = await awaitAll([tokenRead, beginning ?? Promise.resolve(undefined)]);
      const botName = token.resource.spec.bot_name;
      bot = botName;
      if (method === undefined || started === undefined) {
        throw new JoinError(
          'join_method_unavailable',
          `the ${request.join_method} join method is not enabled on this service`,
        );
      }
      const publicKey = parseSubjectPublicKey(request.public_key);
      const { bot: admittedBot, lock } = await this.findBot(botName, reads);
      // A token is single use: its join is refused before it is spent, so that it joins once the lock
      // is lifted. Other methods prove the caller first (an iam join: STS), so that only the bot hears
      // the operator's reason and the refusal is audited with its ARN; their proof is cheap to repeat.
      if (lock !== undefined && method.name === 'token') throw botLockedJoinError(lock);
      // A lock on one of the bot's roles is read with the roles, and refuses the join as a bot lock
      // does: a token join before the token is spent, another once its proof says whose it is.
      const roleLock = reads.roleLock(admittedBot);
      const resolved = resolveRoleSet(reads, admittedBot, admittedBot.spec.roles);
      const roles =
        method.name === 'token'
          ? awaitAll([resolved, roleLock]).then(([set, held]) => {
              if (held !== undefined) throw roleLockedJoinError(held, botName);
              return set;
            })
          : resolved;
      const [roleSet, proof, heldRoleLock] = await awaitAll([roles, started.prove(roles), roleLock]);
      if (lock !== undefined) throw botLockedJoinError(lock, proof.awsArn);
      if (heldRoleLock !== undefined) throw roleLockedJoinError(heldRoleLock, botName, proof.awsArn);
      const identity = await this.startOrContinueInstance(
        admittedBot,
        roleSet,
        token.resource,
        method,
        proof,
        publicKey,
        request.ttl_seconds === undefined ? undefined : request.ttl_seconds * 1000,
      );
      await this.context.audit.record({
        ...base,
        ...tokenRef,
        outcome: 'success',
        bot,
        instance: identity.instance_id,
        serials: [identity.serial],
        roles: identity.roles,
        ...(proof.awsArn === undefined ? {} : { aws_arn: proof.awsArn, aws_account: proof.awsAccount }),
      });
      return identity;
    } catch (error) {
      await this.context.audit.record({
        ...base,
        ...tokenRef,
        ...refusal(error),
        ...auditedBot(bot, error),
      });
      throw error;
    }
  }

  /** The bot a join is for, and the operator's lock on it if there is one. */
  private async findBot(botName: string, reads: JoinReads): Promise<{ bot: Bot; lock: BotLock | undefined }> {
    const [found, lock] = await awaitAll([reads.get('bot', botName), reads.botLock(botName)]);
    if (found === undefined) {
      throw new JoinError(
        'bot_not_found',
        `the token names bot "${botName}", which does not exist; create it with \`midctl bots add ${botName}\``,
      );
    }
    // Bots made before names were held to what fits a certificate can never be issued an identity:
    // refused here, before the method spends the token, so the operator does not also lose it.
    if (botName.length > MAX_BOT_NAME) {
      throw new JoinError(
        'bot_name_too_long',
        `bot "${botName}" has a name of ${botName.length} characters, and its certificates would name it ${botUserName(botName)}, longer than the 64 characters a certificate's common name holds; the token was not used. Add the bot again under a name of at most ${MAX_BOT_NAME} characters (\`midctl bots add\`) and remove this one (\`midctl bots rm ${botName}\`)`,
      );
    }
    return { bot: found.resource, lock };
  }

  private async findToken(request: JoinRequest, reads: JoinReads): Promise<Revisioned<Token>> {
    const token = await reads.get('token', request.token);
    if (token === undefined) {
      const consumed =
        request.join_method === 'token' ? await consumedToken(this.context, request.token) : undefined;
      if (consumed !== undefined) {
        throw new JoinError(
          'token_already_used',
          `this join token was already used: tokens of the token method are single use. Create a new one with \`midctl tokens add --type=bot --bot-name=${consumed.bot ?? 'NAME'}\`, or, while the saved identity of the bot (storage) has not expired, restart the bot from it instead of joining again`,
          consumed.bot === undefined ? {} : { bot: consumed.bot },
        );
      }
      throw new JoinError('token_not_found', UNKNOWN_TOKEN);
    }
    const expires = token.resource.metadata.expires;
    if (expires !== undefined && Date.parse(expires) <= this.context.clock.now()) {
      throw new JoinError(
        'token_expired',
        `the join token expired at ${expires}; create a new one with \`midctl tokens add --type=bot --bot-name=${token.resource.spec.bot_name}\``,
        { bot: token.resource.spec.bot_name },
      );
    }
    if (token.resource.spec.join_method !== request.join_method) {
      throw new JoinError(
        'join_method_mismatch',
        `the token is for the ${token.resource.spec.join_method} join method, but the bot used ${request.join_method}; set onboarding.join_method: ${token.resource.spec.join_method}`,
        { bot: token.resource.spec.bot_name },
      );
    }
    return token;
  }

  private async startOrContinueInstance(
    bot: Bot,
    roleSet: RoleSet,
    token: Token,
    method: JoinMethod,
    proof: JoinProof,
    publicKey: KeyObject,
    ttlMs: number | undefined,
  ): Promise<BotIdentityResponse> {
    const renewable = method.name === 'token';
    const now = new Date(this.context.clock.now()).toISOString();
    const existing = proof.continueInstance;
    if (existing !== undefined) refuseLocked(existing.record);
    const instanceId = existing?.record.instance_id ?? randomUuid(this.context.random);
    const generation = (existing?.record.generation ?? 0) + 1;
    const identity = issueBotIdentity(this.context, {
      bot,
      roleSet,
      instanceId,
      generation,
      renewable,
      publicKey,
      ...(ttlMs === undefined ? {} : { ttlMs }),
    });
    const authentication: InstanceAuthentication = {
      auth_at: now,
      join_method: method.name,
      ...(method.name === 'token'
        ? { join_token_fingerprint: tokenFingerprint(token.metadata.name) }
        : { join_token_name: token.metadata.name }),
      generation,
      serial: identity.serial,
      expires_at: identity.expires_at,
      ...(proof.awsArn === undefined ? {} : { aws_arn: proof.awsArn, aws_account: proof.awsAccount }),
    };
    if (existing === undefined) {
      const record: BotInstanceRecord = {
        bot_name: bot.metadata.name,
        instance_id: instanceId,
        created_at: now,
        join_method: method.name,
        renewable,
        generation,
        current_serial: identity.serial,
        ...(proof.awsArn === undefined ? {} : { aws_arn: proof.awsArn }),
        initial_authentication: authentication,
        latest_authentications: [authentication],
        latest_heartbeats: [],
      };
      // The method's index (IAM: ARN → instance) is written alongside: it is only ever followed to an
      // instance that exists and belongs to the same ARN.
      await awaitAll([
        this.context.instances.create(record),
        method.remember?.(this.context, token, proof, instanceId) ?? Promise.resolve(),
      ]);
    } else {
      await this.context.instances.updateFrom(existing, (record) => {
        // A newer record than the one checked above (someone wrote since): it may be locked by now.
        refuseLocked(record);
        return {
          ...record,
          generation,
          current_serial: identity.serial,
          latest_authentications: pushBounded(record.latest_authentications, authentication),
        };
      });
    }
    return identity;
  }
}

/** The refusal of a join for a locked bot; `awsArn` once STS has said whose the request is. */
function botLockedJoinError(lock: BotLock, awsArn?: string): JoinError {
  const spent = awsArn === undefined ? '; the join token was not used' : '';
  return new JoinError(BOT_LOCKED, `${botLockedMessage(lock)}${spent}`, {
    ...(awsArn === undefined ? {} : { awsArn }),
  });
}

function roleLockedJoinError(lock: RoleLock, botName: string, awsArn?: string): JoinError {
  const spent = awsArn === undefined ? '; the join token was not used' : '';
  return new JoinError(ROLE_LOCKED, `${roleLockedMessage(lock, botName)}${spent}`, {
    ...(awsArn === undefined ? {} : { awsArn }),
  });
}

function refuseLocked(record: BotInstanceRecord): void {
  if (record.locked !== undefined) {
    throw new JoinError(
      lockedInstanceCode(record.locked),
      lockedInstanceMessage(
        record,
        record.locked,
        `an operator must remove it with \`midctl rm bot_instance/${record.bot_name}/${record.instance_id}\``,
      ),
    );
  }
}

/** The bot a refused join is audited under: the one the join found, or the one its refusal names. */
function auditedBot(found: string | undefined, error: unknown): { bot?: string } {
  const bot = found ?? (error instanceof JoinError ? error.bot : undefined);
  return bot === undefined ? {} : { bot };
}
