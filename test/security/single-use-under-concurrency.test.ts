import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DeleteTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedAuditEvent } from '../../lib/auth/audit-log.js';
import { DynamoDbBackend } from '../../lib/auth/storage/dynamodb-backend.js';
import { createDynamoDbClient } from '../../lib/auth/storage/dynamodb-client.js';
import { createDynamoDbTable } from '../../lib/auth/storage/dynamodb-table.js';
import { MemoryBackend } from '../../lib/auth/storage/memory-backend.js';
import { SqliteBackend } from '../../lib/auth/storage/sqlite-backend.js';
import type { ItemInput, StorageBackend } from '../../lib/auth/storage/storage-backend.js';
import { ManualClock } from '../../lib/core/clock.js';
import { JoinError } from '../../lib/core/errors.js';
import { createFixture, newPublicKeyPem, START } from '../auth/auth-fixture.js';
import { createIamFixture } from '../auth/iam/iam-fixture.js';
import { AWS_TEST_CREDENTIALS, AWS_TEST_REGION } from '../support/aws-test-credentials.js';
import { type RunningDynalite, startDynalite } from '../support/dynalite.js';

/**
 * SECURITY rules 3 and 7 under load: 100 racers with one single-use secret (a `token` join token, an
 * IAM challenge) on every storage backend, the DynamoDB one through the real SDK client over HTTP.
 * Exactly one wins; every loser gets the same precise code; the audit log tells the same story.
 */
const RACERS = 100;

let dynalite: RunningDynalite;
let dynamo: DynamoDBClient;
let tables = 0;
const cleanups: Array<() => Promise<void> | void> = [];

beforeAll(async () => {
  dynalite = await startDynalite();
  // The client the auth Lambda builds: one resolved middleware chain shared by all racers.
  dynamo = createDynamoDbClient({
    region: AWS_TEST_REGION,
    endpoint: dynalite.endpoint,
    credentials: { ...AWS_TEST_CREDENTIALS },
  });
});

afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  dynamo?.destroy();
  await dynalite?.stop();
});

/** Prepares a backend (a fresh table, a fresh file) and returns how to open it on a given clock. */
type Backend = () => Promise<(clock: ManualClock) => StorageBackend>;

function track(storage: StorageBackend, after: () => Promise<void> | void = () => {}): StorageBackend {
  cleanups.push(async () => {
    await storage.close();
    await after();
  });
  return storage;
}

const BACKENDS: Array<[string, Backend]> = [
  ['memory', async () => (clock) => new MemoryBackend(clock)],
  [
    'sqlite',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'mid-security-race-'));
      return (clock) =>
        track(SqliteBackend.open(join(dir, 'state.db'), { clock }), () =>
          rmSync(dir, { recursive: true, force: true }),
        );
    },
  ],
  [
    'dynamodb',
    async () => {
      tables += 1;
      const tableName = `mid-security-race-${tables}`;
      await createDynamoDbTable(dynamo, tableName);
      return (clock) =>
        track(new DynamoDbBackend({ client: dynamo, tableName, clock }), async () => {
          await dynamo.send(new DeleteTableCommand({ TableName: tableName }));
        });
    },
  ],
];

/** The codes of the losers, after checking there is exactly one winner and only JoinErrors. */
function oneWinner(results: PromiseSettledResult<unknown>[]): string[] {
  expect(results.filter((result) => result.status === 'fulfilled')).toHaveLength(1);
  return results.flatMap((result) => {
    if (result.status === 'fulfilled') return [];
    expect(result.reason).toBeInstanceOf(JoinError);
    return [(result.reason as JoinError).code];
  });
}

function tally(events: readonly RecordedAuditEvent[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const event of events) {
    const key = `${event.outcome}:${event.code ?? ''}`;
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

describe.each(BACKENDS)('single-use secrets on the %s backend', (_name, prepare) => {
  it(`lets exactly one of ${RACERS} parallel joins with one token win; the rest get token_already_used`, async () => {
    const open = await prepare();
    const clock = new ManualClock(START);
    const fixture = await createFixture(open(clock), clock);
    const token = await fixture.addBot('robot', ['ops']);

    const results = await Promise.allSettled(
      Array.from({ length: RACERS }, (_, i) =>
        fixture.service.join.join(
          { join_method: 'token', token, public_key: newPublicKeyPem() },
          { requestId: `race-${i}` },
        ),
      ),
    );

    const codes = oneWinner(results);
    expect(codes).toHaveLength(RACERS - 1);
    expect(new Set(codes)).toEqual(new Set(['token_already_used']));
    expect(await fixture.service.context.instances.list('robot')).toHaveLength(1);
    const events = await fixture.service.admin.events({ type: 'bot.join', limit: 1000 });
    expect(tally(events)).toEqual({ 'success:': 1, 'failure:token_already_used': RACERS - 1 });
    expect(new Set(events.map((event) => event.request_id)).size).toBe(RACERS);
    expect(JSON.stringify(events)).not.toContain(token);
  });

  it(`lets exactly one of ${RACERS} parallel submissions of one IAM challenge reach STS and win`, async () => {
    const open = await prepare();
    const fixture = await createIamFixture({ storage: open });
    cleanups.push(() => fixture.close());
    const signed = await fixture.sign();

    const results = await Promise.allSettled(Array.from({ length: RACERS }, () => fixture.join(signed)));

    const codes = oneWinner(results);
    expect(codes).toHaveLength(RACERS - 1);
    expect(new Set(codes)).toEqual(new Set(['challenge_replayed']));
    expect(fixture.emulator.requests).toHaveLength(1);
    expect(await fixture.service.context.instances.list('robot')).toHaveLength(1);
    const events = await fixture.service.admin.events({ type: 'bot.join', limit: 1000 });
    expect(tally(events)).toEqual({ 'success:': 1, 'failure:challenge_replayed': RACERS - 1 });
  });
});

/**
 * A memory backend that, right after the conditional delete that spends a secret (a token, a
 * challenge) succeeded, lets one more racer run to its end before the winner carries on. That racer
 * finds the secret gone: it must be told "already used", not "unknown". The window is one storage
 * round trip, which over DynamoDB is long enough for a racer that arrives a little late.
 */
class WindowBackend extends MemoryBackend {
  private late: Promise<unknown> | undefined;
  racer: (() => Promise<unknown>) | undefined;

  constructor(
    clock: ManualClock,
    private readonly secretPrefix: string,
  ) {
    super(clock);
  }

  // A token is spent by a conditional delete, a challenge by a compare-and-swap that marks it used.
  override async delete(key: string, expectedRevision?: string) {
    const deleted = await super.delete(key, expectedRevision);
    if (deleted) await this.raceAfterSpending(key);
    return deleted;
  }

  override async compareAndSwap(item: ItemInput, expectedRevision: string) {
    const swapped = await super.compareAndSwap(item, expectedRevision);
    if (swapped !== undefined) await this.raceAfterSpending(item.key);
    return swapped;
  }

  private async raceAfterSpending(key: string): Promise<void> {
    if (key.startsWith(this.secretPrefix) && this.late === undefined && this.racer) {
      this.late = this.racer().catch((error: unknown) => error);
      await this.late;
    }
  }

  lateOutcome(): Promise<unknown> | undefined {
    return this.late;
  }
}

describe('a racer arriving right after a secret was spent', () => {
  it('is told token_already_used, and audited so', async () => {
    const clock = new ManualClock(START);
    const storage = new WindowBackend(clock, 'tokens/');
    const fixture = await createFixture(storage, clock);
    const token = await fixture.addBot('robot', ['ops']);
    const join = () =>
      fixture.service.join.join(
        { join_method: 'token', token, public_key: newPublicKeyPem() },
        { requestId: 'race' },
      );
    storage.racer = join;

    await expect(join()).resolves.toMatchObject({ bot_name: 'robot' });

    expect(await storage.lateOutcome()).toMatchObject({ code: 'token_already_used' });
    const events = await fixture.service.admin.events({ type: 'bot.join' });
    expect(tally(events)).toEqual({ 'success:': 1, 'failure:token_already_used': 1 });
  });

  it('is told challenge_replayed, without reaching STS', async () => {
    let storage: WindowBackend | undefined;
    const fixture = await createIamFixture({
      storage: (clock) => {
        storage = new WindowBackend(clock, 'iam_challenges/');
        return storage;
      },
    });
    cleanups.push(() => fixture.close());
    const signed = await fixture.sign();
    const submit = () => fixture.join(signed);
    (storage as WindowBackend).racer = submit;

    await expect(submit()).resolves.toMatchObject({ bot_name: 'robot' });

    expect(await storage?.lateOutcome()).toMatchObject({ code: 'challenge_replayed' });
    expect(fixture.emulator.requests).toHaveLength(1);
  });
});
