import type { AuditEvent } from './audit-log.js';
import type { AuthContext } from './auth-context.js';

/** How often a flood of one kind may write a record. */
const WINDOW_MS = 1_000;

/**
 * The audit of refusals that anyone can provoke as fast as they like, without a credential (SECURITY
 * rule 10): at most one record a second per key, carrying how many more were refused since the
 * previous one, so that a flood does not become a flood of storage writes. Which refusals share a key
 * is the caller's choice; keep the number of keys bounded by what the caller cannot make up.
 */
export class SampledAudit {
  private readonly windows = new Map<string, { recordedAt: number; since: number }>();

  constructor(private readonly context: Pick<AuthContext, 'clock' | 'audit'>) {}

  async record(key: string, event: AuditEvent): Promise<void> {
    const now = this.context.clock.now();
    const window = this.windows.get(key) ?? { recordedAt: Number.NEGATIVE_INFINITY, since: 0 };
    if (now - window.recordedAt < WINDOW_MS) {
      window.since += 1;
      this.windows.set(key, window);
      return;
    }
    const since = window.since;
    this.windows.set(key, { recordedAt: now, since: 0 });
    await this.context.audit.record({
      ...event,
      message: `${event.message ?? ''}${since > 0 ? ` (${since} more refused since the previous record)` : ''}`,
    });
  }
}
