import { createHash } from 'node:crypto';
import type { AuditEventType } from '../api/audit-event-types.js';
import type { Clock } from '../core/clock.js';
import { JoinError, MidError } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import type { Random } from '../core/random.js';
import type { RequestMeta } from './auth-context.js';
import type { StorageBackend } from './storage/storage-backend.js';

/** Events are kept for a year, then expire from storage. */
const RETENTION_MS = 366 * 24 * 3_600_000;

export type AuditOutcome = 'success' | 'failure';

/**
 * One structured audit record (SECURITY rule 10): who, how, which bot and instance, which
 * certificates, and for refusals a stable reason code. Never a secret: join tokens of the `token`
 * method appear only as a fingerprint.
 */
export interface AuditEvent {
  readonly type: AuditEventType;
  readonly outcome: AuditOutcome;
  readonly code?: string;
  readonly message?: string;
  readonly actor?: string;
  readonly bot?: string;
  readonly instance?: string;
  readonly join_method?: string;
  readonly token_name?: string;
  readonly token_fingerprint?: string;
  readonly aws_arn?: string;
  readonly aws_account?: string;
  readonly output?: string;
  readonly roles?: readonly string[];
  /** The values of a bot's logins trait, on `bot.create` and `bot.update`. */
  readonly logins?: readonly string[];
  readonly serials?: readonly string[];
  readonly resource?: string;
  readonly request_id?: string;
  readonly remote_addr?: string;
  /**
   * On a record of a flood (`SampledAudit`): how many more refusals of its kind, from any
   * address, went unrecorded since the previous record of that kind.
   */
  readonly more_refused?: number;
}

/**
 * The fields of an audit record that say which request it was: the request id, and the address it
 * came from where the transport knows it (the socket's peer locally, API Gateway's `sourceIp` on AWS;
 * never a header the caller writes), so a refused join can be traced to the machine that tried it.
 */
export function auditedRequest(meta: RequestMeta): Pick<AuditEvent, 'request_id' | 'remote_addr'> {
  return {
    request_id: meta.requestId,
    ...(meta.remoteAddr === undefined ? {} : { remote_addr: meta.remoteAddr }),
  };
}

export interface RecordedAuditEvent extends AuditEvent {
  readonly time: string;
  readonly id: string;
}

/**
 * The fields of a refusal's audit record: the error's stable code and message (both written for the
 * caller, so they hold no secret), and the validated AWS identity when STS had answered.
 */
export function refusal(error: unknown): Pick<AuditEvent, 'outcome' | 'code' | 'message' | 'aws_arn'> {
  if (!(error instanceof MidError))
    return { outcome: 'failure', code: 'internal_error', message: 'internal error' };
  const awsArn = error instanceof JoinError ? error.awsArn : undefined;
  return {
    outcome: 'failure',
    code: error.code,
    message: error.message,
    ...(awsArn === undefined ? {} : { aws_arn: awsArn }),
  };
}

/** Fingerprint for a secret token: enough to correlate events, useless to join with. */
export function tokenFingerprint(token: string): string {
  return `sha256:${createHash('sha256').update(token).digest('hex').slice(0, 16)}`;
}

export class AuditLog {
  private sequence = 0;

  constructor(
    private readonly storage: StorageBackend,
    private readonly clock: Clock,
    private readonly random: Random,
    private readonly logger: Logger,
  ) {}

  async record(event: AuditEvent): Promise<RecordedAuditEvent> {
    const now = this.clock.now();
    const time = new Date(now).toISOString();
    // The sequence keeps this process's events in order within one millisecond; the random part keeps
    // ids of concurrent service instances (Lambdas) apart.
    this.sequence = (this.sequence + 1) % 1_000_000;
    const id = `${time}.${String(this.sequence).padStart(6, '0')}.${this.random.bytes(4).toString('hex')}`;
    const recorded: RecordedAuditEvent = { time, id, ...event };
    const log = event.outcome === 'success' ? this.logger.info : this.logger.warn;
    try {
      await this.storage.put({
        key: `events/${id}`,
        value: JSON.stringify(recorded),
        expiresAt: now + RETENTION_MS,
      });
    } catch (error) {
      // The event still reaches the log (CloudWatch on AWS): a refusal whose storage failed too, at a
      // request's deadline say, must not go unrecorded.
      this.logger.error(`audit ${event.type} ${event.outcome} (not stored)`, {
        ...event,
        audit: true,
        stored: false,
        store_error: error instanceof Error ? error.message : String(error),
      });
      throw error;
    }
    log(`audit ${event.type} ${event.outcome}`, { ...event, audit: true });
    return recorded;
  }

  /** Newest first. */
  async list(options: AuditQuery = {}): Promise<RecordedAuditEvent[]> {
    return (await this.search(options)).events;
  }

  /**
   * Newest first, read a page at a time: a filtered listing (`--type`, `--bot`) stops at `limit`
   * matches or after {@link MAX_EVENTS_SEARCHED} events, so that a year of a busy cluster's events is
   * never read into memory at once (nor beyond a Lambda's time).
   */
  async search(options: AuditQuery = {}): Promise<AuditSearch> {
    const limit = options.limit ?? 100;
    const matches = (event: RecordedAuditEvent) =>
      (options.type === undefined ||
        event.type === options.type ||
        event.type.startsWith(`${options.type}.`)) &&
      (options.bot === undefined || event.bot === options.bot);
    // Unfiltered, every event read is one listed: a page asks for no more than the limit leaves.
    const filtered = options.type !== undefined || options.bot !== undefined;
    const events: RecordedAuditEvent[] = [];
    let searched = 0;
    let after: string | undefined;
    while (events.length < limit) {
      const wanted = Math.min(SEARCH_PAGE, MAX_EVENTS_SEARCHED - searched);
      if (wanted === 0) {
        return {
          events,
          complete: false,
          searched,
          ...(after === undefined ? {} : { searchedBackTo: timeOf(after) }),
        };
      }
      const page = await this.storage.list('events/', {
        reverse: true,
        limit: filtered ? wanted : Math.min(wanted, limit - events.length),
        ...(after === undefined ? {} : { after }),
      });
      searched += page.length;
      for (const item of page) {
        const event = JSON.parse(item.value) as RecordedAuditEvent;
        if (matches(event)) events.push(event);
        if (events.length === limit) break;
      }
      const last = page.at(-1);
      if (last === undefined || page.length < wanted) break;
      after = last.key;
    }
    return { events, complete: true, searched };
  }
}

/** What `midctl events ls` asks for. */
export interface AuditQuery {
  readonly limit?: number;
  /** A type (`bot.join`) or a category (`bot`). */
  readonly type?: string;
  readonly bot?: string;
}

/** Events found, and whether every stored event was searched for them. */
export interface AuditSearch {
  readonly events: RecordedAuditEvent[];
  /** False when the search stopped at {@link MAX_EVENTS_SEARCHED} events, older ones unread. */
  readonly complete: boolean;
  readonly searched: number;
  /** When the search stopped early: the time of the oldest event it read. */
  readonly searchedBackTo?: string;
}

/** Events read per storage call while searching. */
const SEARCH_PAGE = 1_000;
/** The most events one filtered listing reads (a few MB; seconds on DynamoDB). */
export const MAX_EVENTS_SEARCHED = 20_000;

/** The time in an event's key (`events/<ISO time>.<sequence>.<random>`). */
function timeOf(key: string): string {
  return key.slice('events/'.length).split('.').slice(0, 2).join('.');
}
