import { createPrivateKey, X509Certificate } from 'node:crypto';
import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_OUTPUTS_PER_BATCH } from '../../../lib/api/output-certificates.js';
import { ROUTES } from '../../../lib/api/routes.js';
import { BotRunError } from '../../../lib/bot/agent/bot-run-error.js';
import { DestinationIdentityStore, type IdentityStore } from '../../../lib/bot/agent/identity-store.js';
import { STORED_IDENTITY_FILE, type StoredIdentity } from '../../../lib/bot/agent/stored-identity.js';
import type { Destination, OutputMetadata } from '../../../lib/bot/destinations/destination.js';
import { DirectoryDestination } from '../../../lib/bot/destinations/directory-destination.js';
import { MemoryDestination } from '../../../lib/bot/destinations/memory-destination.js';
import { DestinationError } from '../../../lib/core/errors.js';
import {
  agentConfig,
  type Cluster,
  captureLog,
  fileText,
  memoryOutput,
  newAgent,
  startCluster,
} from './agent-fixture.js';

let cluster: Cluster;
let work: string;
let botCount = 0;

beforeAll(async () => {
  cluster = await startCluster();
  work = mkdtempSync(join(tmpdir(), 'midbot-agent-dirs-'));
});

afterAll(async () => {
  await cluster?.dispose();
  rmSync(work, { recursive: true, force: true });
});

/** A new bot (unique name) and its single-use token. */
async function newBot(roles: string[] = ['ops'], ttlSeconds?: number) {
  botCount += 1;
  const name = `robot${botCount}`;
  return { name, token: await cluster.addBot(name, roles, ttlSeconds) };
}

/** Records the path of every request the cluster's HTTPS server receives, until `stop`. */
function countBotCalls(target: Cluster, paths: string[]) {
  const onRequest = (message: unknown) => {
    const { request } = message as { request: IncomingMessage };
    if ((request.socket.address() as AddressInfo).port === target.port) paths.push(request.url ?? '');
  };
  subscribe('http.server.request.start', onRequest);
  return { stop: () => unsubscribe('http.server.request.start', onRequest) };
}

async function rejection(promise: Promise<unknown>): Promise<BotRunError> {
  try {
    await promise;
  } catch (error) {
    expect(error).toBeInstanceOf(BotRunError);
    return error as BotRunError;
  }
  throw new Error('expected the run to fail');
}

describe('BotAgent identity', () => {
  it('joins on the first run and renews the same instance on the next', async () => {
    const bot = await newBot();
    const log = captureLog();
    const agent = newAgent(cluster, agentConfig(cluster, bot.token), { logger: log.logger });
    const first = await agent.runOnce();
    const second = await agent.runOnce();
    agent.close();

    expect(first.identity).toMatchObject({ botName: bot.name, generation: 1, obtained: 'joined' });
    expect(second.identity).toMatchObject({
      botName: bot.name,
      instanceId: first.identity.instanceId,
      generation: 2,
      obtained: 'renewed',
    });
    expect(second.identity.serial).not.toBe(first.identity.serial);
    const [instance, ...others] = await cluster.instances(bot.name);
    expect(others).toEqual([]);
    expect(instance?.status.generation).toBe(2);
    expect(instance?.status.locked).toBeUndefined();
    expect(log.text()).toContain(`Joined the cluster as bot "${bot.name}"`);
    expect(log.text()).toContain('Renewed the bot identity');
    expect(log.text()).not.toContain(bot.token);
  });

  it('resumes from directory storage after a restart, with the spent token still configured', async () => {
    const bot = await newBot();
    const storage = join(work, `${bot.name}-storage`);
    const config = agentConfig(cluster, bot.token, { storage: { type: 'directory', path: storage } });
    const first = newAgent(cluster, config);
    const joined = await first.runOnce();
    first.close();

    const file = join(storage, STORED_IDENTITY_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const saved = JSON.parse(readFileSync(file, 'utf8')) as { identity: { generation: number } };
    expect(saved.identity.generation).toBe(1);
    expect(readFileSync(file, 'utf8')).not.toContain(bot.token);

    // A new process: nothing in memory, the token in the config already consumed.
    const restarted = newAgent(cluster, config);
    const resumed = await restarted.runOnce();
    restarted.close();
    expect(resumed.identity).toMatchObject({
      instanceId: joined.identity.instanceId,
      generation: 2,
      obtained: 'renewed',
    });
    expect(
      (JSON.parse(readFileSync(file, 'utf8')) as { identity: { generation: number } }).identity.generation,
    ).toBe(2);
  });

  it('resumes from directory storage with no token configured at all (--token left out on a restart)', async () => {
    const bot = await newBot();
    const storage = join(work, `${bot.name}-tokenless`);
    const withToken = agentConfig(cluster, bot.token, { storage: { type: 'directory', path: storage } });
    const first = newAgent(cluster, withToken);
    const joined = await first.runOnce();
    first.close();

    const withoutToken = agentConfig(cluster, bot.token, {
      storage: { type: 'directory', path: storage },
      onboarding: { join_method: 'token', ca_pins: [cluster.server.caPin] },
    });
    expect(withoutToken.onboarding.token).toBeUndefined();
    const restarted = newAgent(cluster, withoutToken);
    const resumed = await restarted.runOnce();
    restarted.close();
    expect(resumed.identity).toMatchObject({
      instanceId: joined.identity.instanceId,
      generation: 2,
      obtained: 'renewed',
    });
    // And once more, from what the tokenless run saved.
    const again = newAgent(cluster, withoutToken);
    expect((await again.runOnce()).identity.generation).toBe(3);
    again.close();
  });

  it('says a join token is needed when there is no token and nothing in storage to resume', async () => {
    const storage = join(work, 'empty-tokenless');
    const config = agentConfig(cluster, 'unused', {
      storage: { type: 'directory', path: storage },
      onboarding: { join_method: 'token', ca_pins: [cluster.server.caPin] },
    });
    const agent = newAgent(cluster, config);
    const error = await rejection(agent.runOnce());
    agent.close();
    expect(error.message).toBe(
      `resuming the stored identity failed: directory ${storage} holds no bot identity yet, so midbot must join the cluster, and joining needs a join token. Pass the token printed by \`midctl bots add\` (or a new one from \`midctl tokens add --type=bot --bot-name=NAME\`) with --token (or MID_BOT_TOKEN) or onboarding.token.`,
    );
    expect(error.code).toBe('join_token_required');
    expect(error.retryable).toBe(false);
  });

  it('checks that storage can be written before joining, so an unwritable data dir leaves the token unspent', async () => {
    const bot = await newBot();
    const blocker = join(work, `${bot.name}-a-file`);
    writeFileSync(blocker, 'not a folder\n');
    const unwritable = join(blocker, 'data');
    const agent = newAgent(
      cluster,
      agentConfig(cluster, bot.token, { storage: { type: 'directory', path: unwritable } }),
    );
    const error = await rejection(agent.runOnce());
    agent.close();
    expect(error.message).toBe(
      `checking that storage can be written failed: cannot write ${unwritable}: ${blocker} is a file, not a folder (ENOTDIR); move it away or choose another path. midbot checks this before it joins or renews, so the join token and any stored identity are unchanged.`,
    );
    expect(await cluster.instances(bot.name)).toEqual([]);

    // The same token still joins once storage can be written.
    const writable = join(work, `${bot.name}-data`);
    const retry = newAgent(
      cluster,
      agentConfig(cluster, bot.token, { storage: { type: 'directory', path: writable } }),
    );
    expect((await retry.runOnce()).identity.obtained).toBe('joined');
    retry.close();
  });

  it('checks that every output folder can be written before joining with a token, leaving the token unspent and the folders as they were', async () => {
    const bot = await newBot(['ops', 'apps']);
    const kept = join(work, `${bot.name}-kept`);
    await new DirectoryDestination(kept).write([
      { name: 'tlscert', data: 'previous certificate\n', secret: false },
    ]);
    const blocker = join(work, `${bot.name}-out-file`);
    writeFileSync(blocker, 'not a folder\n');
    const unwritable = join(blocker, 'out');
    const outputs = (second: string) => [
      { type: 'identity', destination: { type: 'directory', path: kept } },
      { type: 'application', app_name: 'grafana', destination: { type: 'directory', path: second } },
    ];
    const log = captureLog();
    const agent = newAgent(cluster, agentConfig(cluster, bot.token, { outputs: outputs(unwritable) }), {
      logger: log.logger,
    });
    const error = await rejection(agent.runOnce());
    agent.close();
    expect(error.message).toBe(
      `checking that outputs[1] (app "grafana") can be written failed: cannot write ${unwritable}: ${blocker} is a file, not a folder (ENOTDIR); move it away or choose another path. midbot checks every output's folder before it joins with a token, so the token is not spent: once the folder is fixed, the same token joins.`,
    );
    expect(error.code).toBe('not_a_file');
    expect(error.retryable).toBe(false);
    expect(await cluster.instances(bot.name)).toEqual([]);
    expect(log.text()).not.toContain('joining the cluster');
    // The check only probed: the other folder holds what it held, and nothing else.
    expect(readdirSync(kept).sort()).toEqual(['.midbot-files.json', 'tlscert']);
    expect(readFileSync(join(kept, 'tlscert'), 'utf8')).toBe('previous certificate\n');

    const retry = newAgent(
      cluster,
      agentConfig(cluster, bot.token, { outputs: outputs(join(work, `${bot.name}-out`)) }),
    );
    const summary = await retry.runOnce();
    retry.close();
    expect(summary.identity.obtained).toBe('joined');
    expect(summary.written).toBe(2);
  });

  it("refuses before joining an output folder holding someone's file where an artifact would go", async () => {
    const bot = await newBot();
    // `--destination-dir ~/.ssh`: the user's known_hosts among their other files.
    const home = join(work, `${bot.name}-ssh`);
    mkdirSync(home);
    writeFileSync(join(home, 'known_hosts'), 'github.com ssh-ed25519 AAAA\n');
    writeFileSync(join(home, 'id_ed25519'), 'my key\n');
    const agent = newAgent(
      cluster,
      agentConfig(cluster, bot.token, {
        outputs: [{ type: 'identity', destination: { type: 'directory', path: home } }],
      }),
    );

    const error = await rejection(agent.runOnce());
    agent.close();

    expect(error.code).toBe('destination_holds_other_files');
    expect(error.message).toContain(
      `${home} already holds known_hosts, which midbot did not write (.midbot-files.json does not list it) and would replace`,
    );
    expect(error.message).toContain('so the token is not spent');
    expect(await cluster.instances(bot.name)).toEqual([]);
    expect(readdirSync(home).sort()).toEqual(['id_ed25519', 'known_hosts']);
  });

  it('asks for its own identity the lifetime of its certificates (certificate_ttl) when over 1 h', async () => {
    const bot = await newBot();
    const agent = newAgent(cluster, agentConfig(cluster, bot.token, { certificate_ttl: '3h' }));
    const joined = await agent.runOnce();
    const renewed = await agent.runOnce();
    agent.close();
    const hoursLeft = (summary: typeof joined) =>
      (Date.parse(summary.identity.expiresAt) - Date.now()) / 3_600_000;
    expect(joined.identity.obtained).toBe('joined');
    expect(hoursLeft(joined)).toBeGreaterThan(2.9);
    expect(renewed.identity.obtained).toBe('renewed');
    expect(hoursLeft(renewed)).toBeGreaterThan(2.9);
  });

  it('joins again with the new token after the configured token changed', async () => {
    const bot = await newBot();
    const store = new DestinationIdentityStore(new MemoryDestination());
    const first = newAgent(cluster, agentConfig(cluster, bot.token), { identityStore: store });
    const joined = await first.runOnce();
    first.close();
    const second = newAgent(cluster, agentConfig(cluster, await cluster.addToken(bot.name)), {
      identityStore: store,
    });
    const rejoined = await second.runOnce();
    second.close();
    expect(rejoined.identity.obtained).toBe('joined');
    expect(rejoined.identity.instanceId).not.toBe(joined.identity.instanceId);
  });

  it("warns when a new token makes the storage another bot's, naming both and the instance left behind", async () => {
    const robot = await newBot();
    const other = await newBot();
    const store = new DestinationIdentityStore(new MemoryDestination());
    const first = newAgent(cluster, agentConfig(cluster, robot.token), { identityStore: store });
    const joined = await first.runOnce();
    first.close();
    const log = captureLog();
    const second = newAgent(cluster, agentConfig(cluster, other.token), {
      identityStore: store,
      logger: log.logger,
    });
    await second.runOnce();
    second.close();
    const instance = joined.identity.instanceId;
    expect(log.text()).toContain(
      `WARN  ${store.describe()} held the identity of bot "${robot.name}", and the new join token is bot "${other.name}"'s: the outputs now carry "${other.name}"'s certificates, and instance ${instance} of "${robot.name}" is no longer used (\`midctl rm bot_instance/${robot.name}/${instance}\` removes it). If the token was meant for another data directory, start this one with a token of "${robot.name}"`,
    );
    // The same bot's new token says nothing of the kind.
    const third = newAgent(cluster, agentConfig(cluster, await cluster.addToken(other.name)), {
      identityStore: store,
      logger: log.logger,
    });
    await third.runOnce();
    third.close();
    expect(log.text().match(/held the identity of bot/g)).toHaveLength(1);
  });

  it('refuses a token that was already used, saying once how to get a new one', async () => {
    const bot = await newBot();
    const first = newAgent(cluster, agentConfig(cluster, bot.token));
    await first.runOnce();
    first.close();
    const storage = join(work, `${bot.name}-empty`);
    const second = newAgent(
      cluster,
      agentConfig(cluster, bot.token, { storage: { type: 'directory', path: storage } }),
    );
    const error = await rejection(second.runOnce());
    second.close();
    expect(error.code).toBe('token_already_used');
    expect(error.retryable).toBe(false);
    expect(error.message).toBe(
      `joining the cluster with the join token failed: this join token was already used: tokens of the token method are single use. Create a new one with \`midctl tokens add --type=bot --bot-name=${bot.name}\`, or, while the saved identity of the bot (storage) has not expired, restart the bot from it instead of joining again. Pass the new token with --token (or MID_BOT_TOKEN) or onboarding.token.`,
    );
    expect(error.message).not.toContain(bot.token);
  });

  it('refuses a spent token with memory storage without pointing to a saved identity, suggesting --data-dir', async () => {
    const bot = await newBot();
    const first = newAgent(cluster, agentConfig(cluster, bot.token));
    await first.runOnce();
    first.close();
    // A second process with memory storage (flags without --data-dir): nothing was saved to restart from.
    const second = newAgent(cluster, agentConfig(cluster, bot.token));
    const error = await rejection(second.runOnce());
    second.close();
    expect(error.code).toBe('token_already_used');
    expect(error.retryable).toBe(false);
    expect(error.message).toBe(
      'joining the cluster with the join token failed: this join token was already used, and join tokens are single use. This run keeps the bot identity in memory only (no --data-dir, or storage: memory), so there is no saved identity to restart from: create a new token with `midctl tokens add --type=bot --bot-name=NAME` and pass it with --token (or MID_BOT_TOKEN) or onboarding.token. With --data-dir DIR (or storage: directory) midbot saves its identity there, and a restart resumes from it without a token.',
    );
    expect(error.message).not.toContain('restart the bot from it');
  });

  it('refuses an unknown token, saying once how to get a new one', async () => {
    const agent = newAgent(cluster, agentConfig(cluster, 'no-such-token'));
    const error = await rejection(agent.runOnce());
    agent.close();
    expect(error.code).toBe('token_not_found');
    expect(error.message).toBe(
      'joining the cluster with the join token failed: the join token is unknown or was deleted; ask an operator for a new one (`midctl bots add` or `midctl tokens add --type=bot --bot-name=NAME`). Pass the new token with --token (or MID_BOT_TOKEN) or onboarding.token.',
    );
  });

  it('says once how to join again after the instance was locked', async () => {
    const bot = await newBot();
    const store = new DestinationIdentityStore(new MemoryDestination());
    const agent = newAgent(cluster, agentConfig(cluster, bot.token), { identityStore: store });
    await agent.runOnce();
    agent.close();
    const generation1 = await store.load();
    // A copy of generation 1 left behind, say by a restored backup, while the bot renews on.
    const renewing = newAgent(cluster, agentConfig(cluster, bot.token), { identityStore: store });
    await renewing.runOnce();
    renewing.close();
    const copy = new DestinationIdentityStore(new MemoryDestination());
    if (generation1 === undefined) throw new Error('nothing stored');
    await copy.save(generation1);
    const stale = newAgent(cluster, agentConfig(cluster, bot.token), { identityStore: copy });
    const mismatch = await rejection(stale.runOnce());
    stale.close();
    expect(mismatch.code).toBe('generation_mismatch');
    expect(mismatch.message).toBe(
      `renewing the bot identity failed: this bot identity was renewed since this certificate was issued, so a copy of it is in use elsewhere; the instance is now locked. Join again with a new token. For a new join token: \`midctl tokens add --type=bot --bot-name=${bot.name}\`; pass it with --token (or MID_BOT_TOKEN) or onboarding.token.`,
    );

    const locked = newAgent(cluster, agentConfig(cluster, bot.token), { identityStore: store });
    const error = await rejection(locked.runOnce());
    locked.close();
    expect(error.code).toBe('instance_locked');
    expect(error.message).toMatch(
      new RegExp(
        `^renewing the bot identity failed: bot instance ${bot.name}/\\S+ is locked since \\S+ \\(.*\\); join again with a new token\\. For a new join token: \`midctl tokens add --type=bot --bot-name=${bot.name}\`; pass it with --token \\(or MID_BOT_TOKEN\\) or onboarding\\.token\\.$`,
      ),
    );
  });

  it('after its bot was deleted, says the bot must be made again (a new token for it would be refused)', async () => {
    const bot = await newBot();
    const agent = newAgent(cluster, agentConfig(cluster, bot.token));
    await agent.runOnce();
    await cluster.server.service.admin.deleteResource('bot', bot.name, undefined, 'test');
    const error = await rejection(agent.runOnce());
    agent.close();
    expect(error.code).toBe('bot_not_found');
    expect(error.message).toContain(`midctl bots add ${bot.name} --roles=`);
    expect(error.message).not.toContain('midctl tokens add');
  });

  it('refuses an expired token, saying once how to get a new one', async () => {
    const bot = await newBot(['ops'], 60);
    cluster.clock.advance(2 * 60_000);
    const agent = newAgent(cluster, agentConfig(cluster, bot.token));
    const error = await rejection(agent.runOnce());
    agent.close();
    expect(error.code).toBe('token_expired');
    expect(error.message).toMatch(
      new RegExp(
        `^joining the cluster with the join token failed: the join token expired at \\S+; create a new one with \`midctl tokens add --type=bot --bot-name=${bot.name}\`\\. Pass the new token with --token \\(or MID_BOT_TOKEN\\) or onboarding\\.token\\.$`,
      ),
    );
  });

  it('joins again with the token when the stored identity expired, and says why that failed', async () => {
    const bot = await newBot();
    const store = new DestinationIdentityStore(new MemoryDestination());
    const agent = newAgent(cluster, agentConfig(cluster, bot.token), { identityStore: store });
    const joined = await agent.runOnce();
    agent.close();

    cluster.clock.advance(2 * 3_600_000);
    const restarted = newAgent(cluster, agentConfig(cluster, bot.token), { identityStore: store });
    const error = await rejection(restarted.runOnce());
    restarted.close();
    expect(error.code).toBe('token_already_used');
    expect(error.message).toContain(
      `the stored identity of bot "${bot.name}" expired at ${joined.identity.expiresAt}, so midbot joined again with the token, and the auth service answered: this join token was already used`,
    );
    expect(error.message).toMatch(
      new RegExp(
        `The bot is "${bot.name}"; pass its new token with --token \\(or MID_BOT_TOKEN\\) or onboarding\\.token\\.$`,
      ),
    );
    expect(error.message.match(/midctl tokens add/g)).toHaveLength(1);

    // With a new token the bot is back, as a new instance.
    const fresh = newAgent(cluster, agentConfig(cluster, await cluster.addToken(bot.name)), {
      identityStore: store,
    });
    const rejoined = await fresh.runOnce();
    fresh.close();
    expect(rejoined.identity.obtained).toBe('joined');
  });

  it('keeps a renewed identity it could not save and saves it before renewing again', async () => {
    const bot = await newBot();
    const inner = new DestinationIdentityStore(new MemoryDestination());
    let failSaves = 0;
    const saved: number[] = [];
    const store: IdentityStore = {
      describe: () => 'flaky store',
      load: () => inner.load(),
      save: async (identity: StoredIdentity) => {
        if (failSaves > 0) {
          failSaves -= 1;
          throw new DestinationError('destination_full', 'no space left on the device');
        }
        saved.push(identity.identity.generation);
        await inner.save(identity);
      },
    };
    const agent = newAgent(cluster, agentConfig(cluster, bot.token), { identityStore: store });
    await agent.runOnce();
    failSaves = 1;
    const error = await rejection(agent.runOnce());
    expect(error.message).toMatch(
      /^saving the bot identity failed: the auth service renewed the identity \(generation 2\)/,
    );
    expect(error.retryable).toBe(true);
    expect(memoryOutput(agent, 0).names()).toContain('tlscert');

    const next = await agent.runOnce();
    agent.close();
    // Generation 2 was saved first; presenting generation 1 again would have locked the instance.
    expect(saved).toEqual([1, 2, 3]);
    expect(next.identity.generation).toBe(3);
    const [instance] = await cluster.instances(bot.name);
    expect(instance?.status.locked).toBeUndefined();
  });

  it('joins with the token when the stored identity is unreadable', async () => {
    const bot = await newBot();
    const storage = join(work, `${bot.name}-corrupt`);
    const config = agentConfig(cluster, bot.token, { storage: { type: 'directory', path: storage } });
    mkdirSync(storage, { recursive: true, mode: 0o700 });
    writeFileSync(join(storage, STORED_IDENTITY_FILE), '{"version": 1, "identity": "half a file', {
      mode: 0o600,
    });
    const log = captureLog();
    const agent = newAgent(cluster, config, { logger: log.logger });
    const summary = await agent.runOnce();
    agent.close();
    expect(summary.identity.obtained).toBe('joined');
    expect(log.text()).toContain(
      `WARN  The stored bot identity cannot be read; joining again with the token storage="directory ${storage}" reason="${join(storage, STORED_IDENTITY_FILE)} is not JSON" join_method=token`,
    );
    expect(log.text()).not.toContain('No stored identity');
  });

  it('without a token, says in one error that the stored identity cannot be read and a new token is needed', async () => {
    const storage = join(work, 'corrupt-tokenless');
    mkdirSync(storage, { recursive: true, mode: 0o700 });
    writeFileSync(join(storage, STORED_IDENTITY_FILE), '{"version": 1, "identity": "half a file', {
      mode: 0o600,
    });
    const config = agentConfig(cluster, 'unused', {
      storage: { type: 'directory', path: storage },
      onboarding: { join_method: 'token', ca_pins: [cluster.server.caPin] },
    });
    const log = captureLog();
    const agent = newAgent(cluster, config, { logger: log.logger });
    const error = await rejection(agent.runOnce());
    agent.close();
    expect(error.code).toBe('join_token_required');
    expect(error.message).toBe(
      `resuming the stored identity failed: the bot identity stored in directory ${storage} cannot be read (${join(storage, STORED_IDENTITY_FILE)} is not JSON), so midbot must join the cluster, and joining needs a join token. Create a new join token with \`midctl tokens add --type=bot --bot-name=NAME\` and pass it with --token (or MID_BOT_TOKEN) or onboarding.token. The join replaces the unreadable file.`,
    );
    // No line before it says midbot joins: it cannot.
    expect(log.text()).not.toContain('joining again');
    expect(log.lines.filter((line) => line.includes('WARN'))).toEqual([]);
  });

  it('aborts on a CA pin that does not match, naming the pin the service presented', async () => {
    const bot = await newBot();
    const wrongPin = `sha256:${'ab'.repeat(32)}`;
    const config = agentConfig(cluster, bot.token);
    const agent = newAgent(cluster, {
      ...config,
      onboarding: { ...config.onboarding, ca_pins: [wrongPin] },
    });
    const error = await rejection(agent.runOnce());
    expect(error.code).toBe('ca_pin_mismatch');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain(`presented CA ${cluster.server.caPin}`);
    expect(error.message).toContain(wrongPin);
    // A daemon stops too: no retry, no insecure fallback.
    await expect(agent.run(new AbortController().signal)).rejects.toMatchObject({ code: 'ca_pin_mismatch' });
    agent.close();
    // The token was never sent: it still works.
    const good = newAgent(cluster, config);
    await expect(good.runOnce()).resolves.toMatchObject({ identity: { obtained: 'joined' } });
    good.close();
  });
});

describe('BotAgent outputs', () => {
  it('uses a fresh key for every output on every run', async () => {
    const bot = await newBot(['ops', 'apps']);
    const agent = newAgent(
      cluster,
      agentConfig(cluster, bot.token, {
        outputs: [
          { type: 'identity', destination: { type: 'memory' } },
          { type: 'application', app_name: 'grafana', destination: { type: 'memory' } },
        ],
      }),
    );
    const keys: string[] = [];
    const serials: string[] = [];
    for (let run = 0; run < 2; run += 1) {
      const summary = await agent.runOnce();
      for (const index of [0, 1]) {
        keys.push(await fileText(memoryOutput(agent, index), 'key'));
        const result = summary.outputs[index];
        if (result?.status !== 'written') throw new Error(`outputs[${index}] failed`);
        serials.push(result.serial);
        // The certificate written is for the key written next to it.
        const cert = new X509Certificate(await fileText(memoryOutput(agent, index), 'tlscert'));
        expect(cert.checkPrivateKey(createPrivateKey(keys.at(-1) as string))).toBe(true);
      }
    }
    agent.close();
    expect(new Set(keys).size).toBe(4);
    expect(new Set(serials).size).toBe(4);
  });

  it("warns when a role's max_session_ttl issues a certificate for less time than certificate_ttl asks", async () => {
    await cluster.server.service.admin.putResources(
      [
        {
          kind: 'role',
          version: 'v7',
          metadata: { name: 'brief' },
          spec: { options: { max_session_ttl: '30m' }, allow: { logins: ['root'] } },
        },
        {
          kind: 'role',
          version: 'v7',
          metadata: { name: 'briefer' },
          spec: { options: { max_session_ttl: '15m' }, allow: { logins: ['root'] } },
        },
      ],
      false,
      'test',
    );
    const bot = await newBot(['ops', 'brief', 'briefer']);
    const log = captureLog();
    const agent = newAgent(
      cluster,
      agentConfig(cluster, bot.token, {
        certificate_ttl: '1h',
        outputs: [
          { type: 'identity', roles: ['ops'], destination: { type: 'memory' } },
          { type: 'identity', roles: ['ops', 'brief'], destination: { type: 'memory' } },
          { type: 'identity', roles: ['ops', 'briefer'], destination: { type: 'memory' } },
        ],
      }),
      { logger: log.logger },
    );
    const summary = await agent.runOnce();
    agent.close();
    expect(summary.written).toBe(3);
    const warnings = log.lines.filter((line) => / WARN /.test(line));
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toMatch(
      /WARN {2}outputs\[1\] \(identity\): the auth service issued the certificate for 30m, shorter than the 1h asked for \(certificate_ttl, --certificate-ttl\): a role's max_session_ttl caps it \(or the CA expires sooner\); raise the roles' max_session_ttl or lower certificate_ttl to 30m; a daemon renews it halfway through its lifetime rather than after renewal_interval \(20m\) roles=ops,brief expires_at=\S+$/,
    );
    expect(warnings[1]).toMatch(
      /WARN {2}outputs\[2\] \(identity\): the auth service issued the certificate for 15m, .*lower certificate_ttl to 15m and renewal_interval below it; a daemon renews it halfway through its lifetime rather than after renewal_interval \(20m\) /,
    );
  });

  it('narrows each output to its roles', async () => {
    const bot = await newBot(['ops', 'apps']);
    const agent = newAgent(
      cluster,
      agentConfig(cluster, bot.token, {
        outputs: [
          { type: 'identity', roles: ['ops'], destination: { type: 'memory' } },
          { type: 'identity', destination: { type: 'memory' } },
          { type: 'identity', roles: ['hosts'], destination: { type: 'memory' } },
        ],
      }),
    );
    const summary = await agent.runOnce();
    agent.close();
    const subject = async (index: number) =>
      new X509Certificate(await fileText(memoryOutput(agent, index), 'tlscert')).subject;
    expect(await subject(0)).toContain('O=ops');
    expect(await subject(0)).not.toContain('apps');
    expect(await subject(1)).toMatch(/O=apps[\s\S]*O=ops|O=ops[\s\S]*O=apps/);
    // A role the bot does not hold is refused for that output only.
    expect(summary.outputs[2]).toMatchObject({ status: 'failed', code: 'role_not_held', retryable: false });
    expect(memoryOutput(agent, 2).names()).toEqual([]);
    expect(summary.written).toBe(2);
  });

  it('writes the other outputs when one is for an app the roles do not allow, and keeps its old files', async () => {
    const bot = await newBot(['ops', 'apps']);
    const payroll = join(work, `${bot.name}-payroll`);
    // An earlier run's files, as midbot wrote them (with its list of them).
    await new DirectoryDestination(payroll).write([
      { name: 'tlscert', data: 'previous certificate\n', secret: false },
    ]);
    const log = captureLog();
    const agent = newAgent(
      cluster,
      agentConfig(cluster, bot.token, {
        outputs: [
          { type: 'application', app_name: 'grafana', destination: { type: 'memory' } },
          { type: 'application', app_name: 'payroll', destination: { type: 'directory', path: payroll } },
          { type: 'identity', destination: { type: 'memory' } },
        ],
      }),
      { logger: log.logger },
    );
    const summary = await agent.runOnce();
    agent.close();
    expect(summary.outputs.map((output) => output.status)).toEqual(['written', 'failed', 'written']);
    expect(summary.outputs[1]).toMatchObject({
      code: 'app_not_allowed',
      target: 'app "payroll"',
      destination: `directory ${payroll}`,
    });
    expect(readFileSync(join(payroll, 'tlscert'), 'utf8')).toBe('previous certificate\n');
    expect(memoryOutput(agent, 0).names()).toEqual(['key', 'tlscacerts', 'tlscert']);
    expect(memoryOutput(agent, 2).names()).toContain('ssh_config');
    expect(log.text()).toContain('Generated identity for app "grafana"');
    expect(log.text()).toMatch(
      /Failed to write outputs\[1\] \(app "payroll"\): the roles .* do not allow app "payroll"/,
    );
    expect(log.text()).toContain('Wrote 2 of 3 outputs; 1 failed');
    // The heartbeat counts what was written.
    const [instance] = await cluster.instances(bot.name);
    expect(instance?.status.latest_heartbeats.at(-1)?.outputs_written).toBe(2);
  });

  it('hands each destination the metadata of what was issued, with all files in one write', async () => {
    const bot = await newBot(['ops', 'apps']);
    const writes: Array<{ names: string[]; metadata: OutputMetadata | undefined }> = [];
    const recording: Destination = {
      describe: () => 'recording',
      read: async () => undefined,
      write: async (files, metadata) => {
        writes.push({ names: files.map((file) => file.name), metadata });
      },
    };
    const agent = newAgent(
      cluster,
      agentConfig(cluster, bot.token, {
        outputs: [{ type: 'application', app_name: 'grafana', destination: { type: 'memory' } }],
      }),
      { destinationFactory: () => ({ destination: recording, artifactDir: '/unused' }) },
    );
    const summary = await agent.runOnce();
    agent.close();
    const written = summary.outputs[0];
    if (written?.status !== 'written') throw new Error('outputs[0] failed');
    expect(writes).toEqual([
      {
        names: ['tlscert', 'key', 'tlscacerts'],
        metadata: {
          bot: bot.name,
          output: 'application grafana',
          serial: written.serial,
          issuedAt: expect.any(String),
          expiresAt: written.expiresAt,
        },
      },
    ]);
  });

  it('asks for all outputs in one call, and in several when there are more than a batch holds', async () => {
    const bot = await newBot(['ops', 'apps']);
    const count = MAX_OUTPUTS_PER_BATCH + 1;
    const audited = async () =>
      (await cluster.server.service.admin.events({ type: 'cert.issue', bot: bot.name, limit: 1000 })).length;
    const calls: string[] = [];
    const counting = countBotCalls(cluster, calls);
    try {
      const agent = newAgent(
        cluster,
        agentConfig(cluster, bot.token, {
          outputs: Array.from({ length: count }, () => ({
            type: 'application',
            app_name: 'grafana',
            destination: { type: 'memory' },
          })),
        }),
      );
      const summary = await agent.runOnce();
      agent.close();
      expect(summary.written).toBe(count);
      expect(
        new Set(summary.outputs.map((output) => output.status === 'written' && output.serial)).size,
      ).toBe(count);
      expect(await audited()).toBe(count);
      expect(calls.filter((path) => path === ROUTES.botCertificatesBatch)).toHaveLength(2);
      expect(calls).not.toContain(ROUTES.botCertificates);
    } finally {
      counting.stop();
    }
  });

  it('records one heartbeat per run on the bot instance', async () => {
    const bot = await newBot();
    const agent = newAgent(cluster, { ...agentConfig(cluster, bot.token), oneshot: true });
    const summary = await agent.runOnce();
    agent.close();
    expect(summary.heartbeat).toBe(true);
    const [instance] = await cluster.instances(bot.name);
    expect(instance?.metadata.name).toBe(summary.identity.instanceId);
    expect(instance?.status.latest_heartbeats).toEqual([
      expect.objectContaining({
        hostname: 'test-host',
        one_shot: true,
        outputs_written: 1,
        version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      }),
    ]);
  });
});

describe('BotAgent trust', () => {
  it('refuses an onboarding.ca_path that is no regular file instead of reading it forever', async () => {
    const bot = await newBot(['ops']);
    const agent = newAgent(
      cluster,
      agentConfig(cluster, bot.token, {
        onboarding: { join_method: 'token', token: bot.token, ca_path: '/dev/zero' },
      }),
    );
    const error = await agent.runOnce().catch((caught: unknown) => caught);
    agent.close();

    expect(error).toMatchObject({ message: expect.stringContaining('cannot read /dev/zero (ENOTREGULAR)') });
  });
});
