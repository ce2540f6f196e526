import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_EVENTS_SEARCHED } from '../../lib/auth/audit-log.js';
import { type LocalAuthServer, startLocalAuthServer } from '../../lib/auth/local/local-auth-server.js';
import { silentLogger } from '../../lib/core/logger.js';
import { publicKeyToPem } from '../../lib/pki/key-encoding.js';
import { generateKeyPair } from '../../lib/pki/signature-suite.js';
import { storedHeartbeatEvent } from '../support/stored-audit-event.js';
import { inProcessMidctl } from './in-process-midctl.js';

describe('midctl events ls, as a table', () => {
  let root: string;
  let server: LocalAuthServer;
  let midctl: ReturnType<typeof inProcessMidctl>;
  /** What midctl wrote beside its output (stderr). */
  const notes: string[] = [];
  /** Moved ahead to let a second pass on the service clock, without waiting it out. */
  let skew = 0;

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'mid-events-'));
    const dataDir = join(root, 'data');
    server = await startLocalAuthServer({
      dataDir,
      port: 0,
      logger: silentLogger,
      iamJoin: false,
      clock: { now: () => Date.now() + skew },
    });
    midctl = inProcessMidctl(dataDir, undefined, notes);
    await midctl(['create', '-f', '-'], 'kind: role\nversion: v7\nmetadata: {name: access}\nspec: {}\n');
  });

  afterAll(async () => {
    await server.close();
    rmSync(root, { recursive: true, force: true });
  });

  it("ends a bot's call with the address it came from, and an operator's without one", async () => {
    const added = JSON.parse(await midctl(['bots', 'add', 'robot', '--roles=access', '--format', 'json']));
    const publicKey = publicKeyToPem(generateKeyPair('balanced', 'subject').publicKey);
    await server.service.join.join(
      { join_method: 'token', token: added.token, public_key: publicKey },
      { requestId: 'req-1', remoteAddr: '203.0.113.7' },
    );
    const joins = (await midctl(['events', 'ls', '--type', 'bot.join'])).split('\n');
    expect(joins[0]).toMatch(/Detail\s*$/);
    expect(joins[2]).toMatch(/bot\.join\s+success\s+robot\s+[0-9a-f]{8}\s+from 203\.0\.113\.7$/);
    const created = (await midctl(['events', 'ls', '--type', 'bot.create'])).split('\n');
    expect(created[2]).toMatch(/bot\.create\s+success\s+robot\s*$/);
  });

  it('shows who locked or unlocked a role, and why', async () => {
    await midctl(['lock', 'role/access', '--message', 'key leaked']);
    await midctl(['unlock', 'role/access']);

    const locks = (await midctl(['events', 'ls', '--type', 'role'])).split('\n');

    expect(locks[2]).toMatch(/role\.unlock\s+success\s+role\/access by local-admin: lifted the lock/);
    expect(locks[3]).toMatch(
      /role\.lock\s+success\s+operator_lock\s+role\/access by local-admin: .*key leaked/,
    );
  });

  it('shows on the record of a flood how many more refusals it stands for', async () => {
    const unsigned = { method: 'POST', path: '/v1/bot/heartbeat', headers: {}, body: Buffer.from('{}') };
    const meta = (i: number) => ({ requestId: `flood-${i}`, remoteAddr: '198.51.100.4' });
    const refuse = (i: number) =>
      server.service.authenticator.authenticate(unsigned, meta(i)).catch(() => undefined);
    await refuse(0);
    for (let i = 1; i < 25; i += 1) await refuse(i);
    // The next refusal a second later is recorded with the count of those in between.
    skew += 1_000;
    await refuse(25);
    const rows = (await midctl(['events', 'ls', '--type', 'bot.authenticate'])).split('\n');
    expect(rows[2]).toMatch(
      /bot_auth_missing\s+from 198\.51\.100\.4 \(\+24 more refused since the previous record\)$/,
    );
    expect(rows[3]).toMatch(/bot_auth_missing\s+from 198\.51\.100\.4$/);
  });

  it('notes a --bot that names no bot, with the likely name, when nothing was found', async () => {
    expect(await midctl(['events', 'ls', '--bot', 'robt'])).toMatch(
      /\nNOTE: no bot is named "robt" now \(a removed bot's events stay listed under its name\); did you mean --bot robot\?\n$/,
    );
    expect(await midctl(['events', 'ls', '--bot', 'robot'])).not.toContain('NOTE');
    notes.length = 0;
    expect(JSON.parse(await midctl(['events', 'ls', '--bot', 'robt', '--format', 'json']))).toEqual([]);
    expect(notes.join('')).toContain('NOTE: no bot is named "robt" now');
  });

  it('says where a filtered search stopped, when older events were left unread', async () => {
    const storage = server.service.context.storage;
    const start = Date.parse('2026-01-01T00:00:00Z');
    for (let batch = 0; batch < MAX_EVENTS_SEARCHED / 1_000; batch += 1) {
      await Promise.all(
        Array.from({ length: 1_000 }, (_, i) =>
          storage.put(storedHeartbeatEvent(start + batch * 1_000 + i, 'busy')),
        ),
      );
    }
    const text = await midctl(['events', 'ls', '--bot', 'nobody-at-all']);
    expect(text).toContain(
      `NOTE: the search stopped after the newest ${MAX_EVENTS_SEARCHED} events (back to `,
    );
    expect(text).toContain('older events were not searched');
    notes.length = 0;
    const json = JSON.parse(await midctl(['events', 'ls', '--bot', 'nobody-at-all', '--format', 'json']));
    expect(json).toEqual([]);
    // Beside the JSON array, on stderr: a script reading the array learns it may be incomplete too.
    expect(notes.join('')).toContain(
      `NOTE: the search stopped after the newest ${MAX_EVENTS_SEARCHED} events (back to `,
    );
    expect(await midctl(['events', 'ls', '--limit', '3'])).not.toContain('NOTE');
  });
});
