import type { AuditEventType } from '../../api/audit-event-types.js';
import { ROUTES } from '../../api/routes.js';
import { LimitExceededError, type MidError } from '../../core/errors.js';
import { auditedRequest, refusal } from '../audit-log.js';
import type { AuthContext, RequestMeta } from '../auth-context.js';
import { SampledAudit } from '../sampled-audit.js';
import { MAX_BODY_BYTES } from './json-body.js';
import { TokenBucket } from './token-bucket.js';

/** The audit type of each route that takes a body (a join challenge is part of a join). */
const OVERSIZED_BODY_TYPES = new Map<string, AuditEventType>([
  [ROUTES.joinChallenge, 'bot.join'],
  [ROUTES.join, 'bot.join'],
  [ROUTES.botRenew, 'bot.renew'],
  [ROUTES.botCertificates, 'cert.issue'],
  [ROUTES.botCertificatesBatch, 'cert.issue'],
  [ROUTES.botHeartbeat, 'bot.heartbeat'],
]);

/**
 * What bounds the public routes, which anyone may call unauthenticated: joins in flight at once,
 * challenges handed out per second, and the audit of what a flood gets refused (sampled, so that a
 * flood does not become a flood of storage writes).
 */
export class PublicRouteLimits {
  private joinsInFlight = 0;
  private readonly sampled: SampledAudit;
  private readonly maxConcurrentJoins: number;
  private readonly challenges: TokenBucket;

  constructor(
    private readonly context: Pick<AuthContext, 'clock' | 'audit'>,
    options: { readonly maxConcurrentJoins?: number; readonly maxChallengesPerSecond?: number },
  ) {
    this.sampled = new SampledAudit(context);
    this.maxConcurrentJoins = options.maxConcurrentJoins ?? 256;
    const challengesPerSecond = options.maxChallengesPerSecond ?? 100;
    this.challenges = new TokenBucket(challengesPerSecond, 2 * challengesPerSecond, context.clock.now());
  }

  async limitJoins<T>(meta: RequestMeta, work: () => Promise<T>): Promise<T> {
    if (this.joinsInFlight >= this.maxConcurrentJoins) {
      const error = new LimitExceededError(
        'too_many_joins',
        'too many joins in flight; retry after a short wait',
      );
      await this.auditSampledRefusal('bot.join', error, meta);
      throw error;
    }
    this.joinsInFlight += 1;
    try {
      return await work();
    } finally {
      this.joinsInFlight -= 1;
    }
  }

  async limitChallenges<T>(meta: RequestMeta, work: () => Promise<T>): Promise<T> {
    if (!this.challenges.take(this.context.clock.now())) {
      const error = new LimitExceededError(
        'too_many_challenges',
        'too many join challenges asked for; retry after a short wait',
      );
      await this.auditSampledRefusal('bot.join', error, meta);
      throw error;
    }
    return work();
  }

  /**
   * Refusals a flood produces (joins over the in-flight limit, oversized bodies) are audited too
   * (SECURITY rule 10), but sampled: see {@link SampledAudit}.
   */
  private async auditSampledRefusal(type: AuditEventType, error: MidError, meta: RequestMeta): Promise<void> {
    await this.sampled.record(`${type}/${error.code}`, {
      type,
      ...refusal(error),
      ...auditedRequest(meta),
    });
  }

  /**
   * A body refused for its size before routing, audited like the other flood refusals and under the
   * type its route's own refusals have. Any other path is a `request`: a type taken from the path would
   * let a flood spread over made-up paths, each sampled apart, and write a record per request.
   */
  async auditOversizedBody(path: string, meta: RequestMeta): Promise<void> {
    const type = OVERSIZED_BODY_TYPES.get(path) ?? 'request';
    const error = new LimitExceededError(
      'body_too_large',
      `the request body exceeds ${MAX_BODY_BYTES} bytes`,
    );
    await this.auditSampledRefusal(type, error, meta);
  }
}
