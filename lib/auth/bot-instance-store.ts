import type { Clock } from '../core/clock.js';
import { ConflictError, NotFoundError } from '../core/errors.js';
import { liftText, lockHolds } from './operator-lock.js';
import type { StorageBackend } from './storage/storage-backend.js';

/** Teleport keeps the ten latest authentications and heartbeats of an instance. */
export const HISTORY_LENGTH = 10;

export interface InstanceAuthentication {
  readonly auth_at: string;
  readonly join_method: 'token' | 'iam' | 'renewal';
  /** Named only for methods whose token name is no secret (iam). */
  readonly join_token_name?: string;
  /** For `token` joins, a fingerprint of the secret token. */
  readonly join_token_fingerprint?: string;
  readonly generation: number;
  readonly aws_arn?: string;
  readonly aws_account?: string;
  readonly serial: string;
  /** When the bot identity issued here expires (absent in records written before it was kept). */
  readonly expires_at?: string;
}

export interface InstanceHeartbeat {
  readonly recorded_at: string;
  readonly hostname: string;
  readonly version: string;
  readonly uptime_seconds: number;
  readonly one_shot: boolean;
  readonly outputs_written: number;
}

/**
 * Why an instance is refused everything. The service locks an instance itself when a copy of its
 * identity shows up (a stale generation, two renewals with one certificate); an operator locks one
 * with `midctl lock`, and only an operator's lock can be lifted (`midctl unlock`): the service's own
 * means the identity is no longer the bot's alone.
 */
export interface InstanceLock {
  readonly at: string;
  readonly reason: string;
  /** The operator who locked it (their IAM ARN on AWS, `local-admin` locally); absent for the service's own. */
  readonly by?: string;
  /** When an operator's lock lifts by itself (`midctl lock --ttl`); the service's own never does. */
  readonly expires?: string;
}

/**
 * The refusal code for a call of a locked instance. An operator's lock has a code of its own: it is
 * lifted by `midctl unlock`, so a bot waits for it (midbot retries) instead of joining anew, which a
 * lock of the service's own calls for.
 */
export function lockedInstanceCode(lock: InstanceLock): 'instance_locked' | 'instance_locked_by_operator' {
  return lock.by === undefined ? 'instance_locked' : 'instance_locked_by_operator';
}

/**
 * The refusal text for a call of a locked instance: when it was locked and why, then what to do,
 * `serviceLockAdvice` for a lock of the service's own. `owner` names whose the instance is where the
 * caller cannot know (an iam join: the role session).
 */
export function lockedInstanceMessage(
  record: BotInstanceRecord,
  lock: InstanceLock,
  serviceLockAdvice: string,
  owner?: string,
): string {
  const name = `${record.bot_name}/${record.instance_id}`;
  const instance = `bot instance ${name}${owner === undefined ? '' : ` of ${owner}`}`;
  return lock.by === undefined
    ? `${instance} is locked since ${lock.at} (${lock.reason}); ${serviceLockAdvice}`
    : `${instance} was locked by an operator at ${lock.at}: ${lock.reason}. ${liftText(lock.expires, `midctl unlock bot_instance/${name}`)}`;
}

/** The server-side record of one bot instance (one fresh join and everything after it). */
export interface BotInstanceRecord {
  readonly bot_name: string;
  readonly instance_id: string;
  readonly created_at: string;
  readonly join_method: 'token' | 'iam';
  readonly renewable: boolean;
  /** Bumped on every renewal; a certificate of an older generation locks the instance. */
  readonly generation: number;
  readonly current_serial: string;
  /** For IAM instances: the validated identity this instance belongs to. */
  readonly aws_arn?: string;
  readonly locked?: InstanceLock;
  readonly initial_authentication: InstanceAuthentication;
  readonly latest_authentications: readonly InstanceAuthentication[];
  readonly initial_heartbeat?: InstanceHeartbeat;
  readonly latest_heartbeats: readonly InstanceHeartbeat[];
}

/** An instance record with the revision it was read at, for a compare-and-swap against it. */
export interface StoredInstance {
  readonly record: BotInstanceRecord;
  readonly revision: string;
}

export function pushBounded<T>(list: readonly T[], item: T): T[] {
  return [...list, item].slice(-HISTORY_LENGTH);
}

function keyOf(botName: string, instanceId: string): string {
  return `instances/${botName}/${instanceId}`;
}

/** Bot instances over the storage port; every update is a compare-and-swap so concurrent writers never lose history. */
export class BotInstanceStore {
  constructor(
    private readonly storage: StorageBackend,
    private readonly clock: Clock,
  ) {}

  async create(record: BotInstanceRecord): Promise<void> {
    const created = await this.storage.create({
      key: keyOf(record.bot_name, record.instance_id),
      value: JSON.stringify(record),
    });
    if (created === undefined)
      throw new ConflictError('instance_exists', `bot instance ${record.instance_id} already exists`);
  }

  async get(botName: string, instanceId: string): Promise<StoredInstance | undefined> {
    const item = await this.storage.get(keyOf(botName, instanceId));
    return item === undefined ? undefined : { record: this.decode(item.value), revision: item.revision };
  }

  async require(botName: string, instanceId: string): Promise<StoredInstance> {
    const found = await this.get(botName, instanceId);
    if (found === undefined) {
      // `midctl events ls` shows an instance by the first characters of its id: one of those, copied,
      // is answered with the whole id. Read only on the way to a refusal.
      const [only, another] = await this.storage.list(keyOf(botName, instanceId), { limit: 2 });
      const likely =
        only === undefined || another !== undefined ? undefined : this.decode(only.value).instance_id;
      throw new NotFoundError(
        'instance_not_found',
        `bot instance ${botName}/${instanceId} does not exist${likely === undefined ? '' : ` (did you mean ${botName}/${likely}?)`}`,
      );
    }
    return found;
  }

  /** Replaces the record only if unchanged since `revision`; false when someone else wrote first. */
  async replace(record: BotInstanceRecord, revision: string): Promise<boolean> {
    const swapped = await this.storage.compareAndSwap(
      { key: keyOf(record.bot_name, record.instance_id), value: JSON.stringify(record) },
      revision,
    );
    return swapped !== undefined;
  }

  /** Applies `change` with optimistic concurrency, retrying on conflicts with the latest record. */
  update(
    botName: string,
    instanceId: string,
    change: (record: BotInstanceRecord) => BotInstanceRecord,
  ): Promise<BotInstanceRecord> {
    return this.swapLoop(botName, instanceId, change, undefined);
  }

  /**
   * Like {@link update}, starting from the record this request already read instead of reading it
   * again: the first attempt swaps at `known.revision`, and only a conflict (someone wrote since) costs
   * a fresh read. `change` then sees the newer record, so it must check again whatever it relies on.
   */
  updateFrom(
    known: StoredInstance,
    change: (record: BotInstanceRecord) => BotInstanceRecord,
  ): Promise<BotInstanceRecord> {
    return this.swapLoop(known.record.bot_name, known.record.instance_id, change, known);
  }

  private async swapLoop(
    botName: string,
    instanceId: string,
    change: (record: BotInstanceRecord) => BotInstanceRecord,
    known: StoredInstance | undefined,
  ): Promise<BotInstanceRecord> {
    let current = known;
    for (let attempt = 0; attempt < 20; attempt += 1) {
      const { record, revision } = current ?? (await this.require(botName, instanceId));
      current = undefined;
      const next = change(record);
      if (await this.replace(next, revision)) return next;
    }
    throw new ConflictError(
      'instance_contended',
      `bot instance ${botName}/${instanceId} is being updated too often; try again`,
    );
  }

  async list(botName?: string): Promise<BotInstanceRecord[]> {
    const items = await this.storage.list(botName === undefined ? 'instances/' : `instances/${botName}/`);
    return items.map((item) => this.decode(item.value));
  }

  /**
   * A stored record as the service acts on it: an operator's lock past its expiry is read as no lock,
   * so every check of `locked` sees it lifted at that time, and the next write drops it.
   */
  private decode(value: string): BotInstanceRecord {
    const record = JSON.parse(value) as BotInstanceRecord;
    if (record.locked === undefined || lockHolds(record.locked.expires, this.clock.now())) return record;
    const { locked: _expired, ...unlocked } = record;
    return unlocked;
  }

  async deleteAll(botName: string): Promise<number> {
    const items = await this.storage.list(`instances/${botName}/`);
    await Promise.all(items.map((item) => this.storage.delete(item.key)));
    return items.length;
  }
}

/** The `bot_instance` resource as `midctl get bot_instance` shows it (Teleport's shape). */
export function toBotInstanceResource(record: BotInstanceRecord): Record<string, unknown> {
  return {
    kind: 'bot_instance',
    version: 'v1',
    metadata: { name: record.instance_id },
    spec: { bot_name: record.bot_name, instance_id: record.instance_id },
    status: {
      created_at: record.created_at,
      join_method: record.join_method,
      renewable: record.renewable,
      generation: record.generation,
      ...(record.aws_arn === undefined ? {} : { aws_arn: record.aws_arn }),
      ...(record.locked === undefined ? {} : { locked: record.locked }),
      initial_authentication: record.initial_authentication,
      latest_authentications: record.latest_authentications,
      ...(record.initial_heartbeat === undefined ? {} : { initial_heartbeat: record.initial_heartbeat }),
      latest_heartbeats: record.latest_heartbeats,
    },
  };
}
