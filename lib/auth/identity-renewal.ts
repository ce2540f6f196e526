import type { BotIdentityResponse, RenewRequest } from '../api/bot-identity.js';
import { AccessDeniedError } from '../core/errors.js';
import { parseSubjectPublicKey } from '../pki/subject-public-key.js';
import { auditedRequest, refusal } from './audit-log.js';
import type { AuthContext, RequestMeta } from './auth-context.js';
import { awaitAll } from './await-all.js';
import type { AuthenticatedBot } from './bot-authenticator.js';
import { issueBotIdentity } from './bot-identity-issuer.js';
import {
  type BotInstanceRecord,
  lockedInstanceCode,
  lockedInstanceMessage,
  pushBounded,
} from './bot-instance-store.js';
import type { ReadOnce } from './request-reads.js';
import { refuseRoleLock } from './role-locks.js';
import { resolveRoleSet } from './role-resolver.js';

/**
 * What a renewal reads, started while its caller is authenticated: the roles the certificate names and
 * their locks, which are the bot's roles unless an operator changed them since.
 */
export function renewalReadsAhead(reads: ReadOnce, certificateRoles: readonly string[]): void {
  reads.readRolesAhead(certificateRoles);
}

/**
 * Renews a token-joined bot's identity: the next generation, for a fresh key. The instance record is
 * swapped at the revision the authenticator read, so two renewals racing with one certificate cannot
 * both succeed; the loser is treated like any stale certificate and locks the instance. Any other
 * write in between (a heartbeat) leaves the generation alone: the renewal then applies to the newer
 * record instead of locking a healthy instance.
 */
export async function renewIdentity(
  context: AuthContext,
  caller: AuthenticatedBot,
  request: RenewRequest,
  meta: RequestMeta,
): Promise<BotIdentityResponse> {
  const base = {
    type: 'bot.renew' as const,
    bot: caller.bot.metadata.name,
    instance: caller.instance.instance_id,
    join_method: caller.instance.join_method,
    ...auditedRequest(meta),
  };
  try {
    if (!caller.instance.renewable) {
      throw new AccessDeniedError(
        'not_renewable',
        'identities from the iam join method are not renewed: the bot joins again on every run',
      );
    }
    const publicKey = parseSubjectPublicKey(request.public_key);
    const generation = caller.instance.generation + 1;
    // The locks on its roles are read with the roles, ahead, with the caller (see renewalReadsAhead).
    const { reads, bot } = caller;
    const [roleSet] = await awaitAll([
      resolveRoleSet(reads, bot, bot.spec.roles),
      reads.roleLock(bot).then((lock) => refuseRoleLock(lock, bot)),
    ]);
    const identity = issueBotIdentity(context, {
      bot: caller.bot,
      roleSet,
      instanceId: caller.instance.instance_id,
      generation,
      renewable: true,
      publicKey,
      ...(request.ttl_seconds === undefined ? {} : { ttlMs: request.ttl_seconds * 1000 }),
    });
    const renewed = (record: BotInstanceRecord): BotInstanceRecord => ({
      ...record,
      generation,
      current_serial: identity.serial,
      latest_authentications: pushBounded(record.latest_authentications, {
        auth_at: identity.issued_at,
        join_method: 'renewal',
        generation,
        serial: identity.serial,
        expires_at: identity.expires_at,
      }),
    });
    if (!(await context.instances.replace(renewed(caller.instance), caller.instanceRevision))) {
      // Someone wrote the record since it was read. Only another renewal moves the generation; a stale
      // certificate presented meanwhile locks the instance, and a locked instance renews nothing.
      const swap: { outcome: 'renewed' | 'raced' | 'locked' } = { outcome: 'renewed' };
      const at = new Date(context.clock.now()).toISOString();
      const latest = await context.instances.update(
        caller.bot.metadata.name,
        caller.instance.instance_id,
        (record) => {
          if (record.locked !== undefined) {
            swap.outcome = 'locked';
            return record;
          }
          const raced =
            record.generation !== caller.instance.generation ||
            record.current_serial !== caller.instance.current_serial;
          swap.outcome = raced ? 'raced' : 'renewed';
          return raced
            ? { ...record, locked: { at, reason: 'two renewals raced with one certificate' } }
            : renewed(record);
        },
      );
      if (swap.outcome === 'locked' && latest.locked !== undefined) {
        throw new AccessDeniedError(
          lockedInstanceCode(latest.locked),
          lockedInstanceMessage(latest, latest.locked, 'join again with a new token'),
        );
      }
      const raced = swap.outcome === 'raced';
      if (raced) {
        await context.audit.record({
          type: 'bot.lock',
          outcome: 'success',
          code: 'generation_mismatch',
          bot: base.bot,
          instance: base.instance,
          ...auditedRequest(meta),
          message: `two renewals with the certificate of generation ${caller.instance.generation} raced`,
        });
        throw new AccessDeniedError(
          'generation_mismatch',
          'another renewal with this certificate happened at the same time, so a copy of this identity is in use elsewhere; the instance is now locked',
        );
      }
    }
    await context.audit.record({
      ...base,
      outcome: 'success',
      serials: [identity.serial],
      roles: identity.roles,
    });
    return identity;
  } catch (error) {
    await context.audit.record({
      ...base,
      ...refusal(error),
    });
    throw error;
  }
}
