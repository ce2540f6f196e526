import { DEFAULT_MAX_ATTEMPTS, StandardRetryStrategy } from '@smithy/core/retry';
import type { RetryErrorInfo, RetryStrategyV2, RetryToken, StandardRetryToken } from '@smithy/types';
import type { Deadline } from '../../core/invocation-deadline.js';

/**
 * The SDK's standard retries (attempts with backoff and jitter, a retry budget), but none once the
 * deadline of the request that made the call has passed. That request has answered `storage_timeout`
 * by then; a retry the SDK sent later would land after the caller was told the call failed, and could
 * undo a write made since (a role taken away, put back by the late retry of an earlier put).
 *
 * The deadline is the one of the request the call started in, kept with its retry token: when a retry
 * comes due, that request may be over and another one running.
 */
export class DeadlineRetryStrategy implements RetryStrategyV2 {
  private readonly standard: StandardRetryStrategy;
  private readonly deadlines = new WeakMap<RetryToken, Deadline>();

  /** @param deadline the deadline of the request running now, when there is one. */
  constructor(
    private readonly deadline: () => Deadline | undefined,
    maxAttempts: number = DEFAULT_MAX_ATTEMPTS,
  ) {
    this.standard = new StandardRetryStrategy(maxAttempts);
  }

  async acquireInitialRetryToken(retryTokenScope: string): Promise<RetryToken> {
    const token = await this.standard.acquireInitialRetryToken(retryTokenScope);
    const deadline = this.deadline();
    if (deadline !== undefined) this.deadlines.set(token, deadline);
    return token;
  }

  async refreshRetryTokenForRetry(token: RetryToken, errorInfo: RetryErrorInfo): Promise<RetryToken> {
    const deadline = this.deadlines.get(token);
    if (deadline?.passed) throw new Error('no retry: the request this call was made for has timed out');
    // The standard strategy waits out the backoff before it returns: the deadline may pass meanwhile.
    const next = await this.standard.refreshRetryTokenForRetry(token as StandardRetryToken, errorInfo);
    if (deadline?.passed) throw new Error('no retry: the request this call was made for has timed out');
    if (deadline !== undefined) this.deadlines.set(next, deadline);
    return next;
  }

  recordSuccess(token: RetryToken): void {
    // The tokens are the standard strategy's own, handed back by the SDK.
    this.standard.recordSuccess(token as StandardRetryToken);
  }
}
