import type { AuditEvent } from './audit-log.js';
import type { AuthContext } from './auth-context.js';

/** How often a flood of one kind may write a record. */
const WINDOW_MS = 1_000;

interface SampleWindow {
  /** When the window's record was written (the service clock). */
  readonly recordedAt: number;
  /** Refusals since then that wrote no record. */
  since: number;
  /** The latest of those, which the window's closing record describes. */
  latest?: AuditEvent;
  closing?: NodeJS.Timeout;
}

/**
 * The audit of refusals that anyone can provoke as fast as they like, without a credential (SECURITY
 * rule 10): at most one record a second per key, carrying how many more were refused since the
 * previous one, so that a flood does not become a flood of storage writes. Which refusals share a key
 * is the caller's choice; keep the number of keys bounded by what the caller cannot make up.
 *
 * No refusal goes uncounted when a burst stops: a window with refusals left unrecorded is closed a
 * second later by one record of the latest of them with their count. (A Lambda frozen meanwhile
 * writes it when it next runs.)
 */
export class SampledAudit {
  private readonly windows = new Map<string, SampleWindow>();

  constructor(private readonly context: Pick<AuthContext, 'clock' | 'audit'>) {}

  async record(key: string, event: AuditEvent): Promise<void> {
    const now = this.context.clock.now();
    const window = this.windows.get(key);
    if (window !== undefined && now - window.recordedAt < WINDOW_MS) {
      window.since += 1;
      window.latest = event;
      // Unref'd: a pending count must not keep a stopping process alive.
      window.closing ??= setTimeout(() => void this.close(key, window), WINDOW_MS).unref();
      return;
    }
    if (window?.closing !== undefined) clearTimeout(window.closing);
    this.windows.set(key, { recordedAt: now, since: 0 });
    await this.context.audit.record(withCount(event, window?.since ?? 0));
  }

  /**
   * Writes the record of a window's unrecorded refusals, unless a later refusal has written it already
   * or the service clock says the window is still open (a clock that stands still, in tests).
   */
  private async close(key: string, window: SampleWindow): Promise<void> {
    window.closing = undefined;
    const { latest, since } = window;
    if (this.windows.get(key) !== window || latest === undefined || since === 0) return;
    const now = this.context.clock.now();
    if (now - window.recordedAt < WINDOW_MS) return;
    this.windows.set(key, { recordedAt: now, since: 0 });
    // The audit log writes what it could not store to the service log; nobody awaits this write.
    await this.context.audit.record(withCount(latest, since - 1)).catch(() => {});
  }
}

function withCount(event: AuditEvent, more: number): AuditEvent {
  if (more === 0) return event;
  return {
    ...event,
    message: `${event.message ?? ''} (${more} more refused since the previous record)`,
    more_refused: more,
  };
}
