import { X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { type LocalAuthServer, startLocalAuthServer } from '../../../lib/auth/local/local-auth-server.js';
import { BotRunError } from '../../../lib/bot/agent/bot-run-error.js';
import { identityStoreFor } from '../../../lib/bot/agent/identity-store.js';
import type { DestinationFactory } from '../../../lib/bot/agent/output-destinations.js';
import type { Sleep } from '../../../lib/bot/agent/sleep.js';
import type { Destination } from '../../../lib/bot/destinations/destination.js';
import { MemoryDestination } from '../../../lib/bot/destinations/memory-destination.js';
import { DestinationError } from '../../../lib/core/errors.js';
import { type Logger, silentLogger } from '../../../lib/core/logger.js';
import {
  agentConfig,
  type Cluster,
  captureLog,
  fileText,
  memoryOutput,
  newAgent,
  scriptedSleep,
  startCluster,
} from './agent-fixture.js';

const TWENTY_MINUTES = 1_200_000;

let cluster: Cluster | undefined;

afterEach(async () => {
  await cluster?.dispose();
  cluster = undefined;
});

function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name), 'base64')]));
}

/**
 * A destination that fails `failures` times (`Infinity`: always) with `code`, a passing reason, and
 * otherwise keeps what it is given.
 */
function failingDestination(
  failures: number,
  code = 'destination_full',
): { destination: Destination; kept: MemoryDestination } {
  const kept = new MemoryDestination();
  let left = failures;
  return {
    kept,
    destination: {
      describe: () => 'failing',
      read: (name) => kept.read(name),
      write: async (files) => {
        if (left > 0) {
          left -= 1;
          throw new DestinationError(code, 'the device failed');
        }
        await kept.write(files);
      },
    },
  };
}

/** Two identity outputs: outputs[0] in memory, outputs[1] to `second`. */
function twoOutputs(second: Destination): {
  outputs: Array<Record<string, unknown>>;
  destinationFactory: DestinationFactory;
} {
  return {
    outputs: [
      { type: 'identity', destination: { type: 'memory' } },
      { type: 'identity', destination: { type: 'memory' } },
    ],
    destinationFactory: (_config, index) =>
      index === 1
        ? { destination: second, artifactDir: '/unused' }
        : { destination: new MemoryDestination(), artifactDir: '/unused' },
  };
}

/** A daemon with one identity output in `out`, run until `signal` aborts, with no jitter in its backoff. */
async function runIdentityDaemon(
  c: Cluster,
  token: string,
  out: string,
  options: { sleep: Sleep; logger: Logger },
  signal: AbortSignal,
): Promise<void> {
  const config = agentConfig(c, token, {
    outputs: [{ type: 'identity', destination: { type: 'directory', path: out } }],
  });
  const agent = newAgent(c, config, { ...options, random: () => 0 });
  try {
    await agent.run(signal);
  } finally {
    agent.close();
  }
}

describe('BotAgent.run', () => {
  it('retries with backoff while the auth service is down, keeps the artifacts, and recovers', async () => {
    cluster = await startCluster();
    const c = cluster;
    const token = await c.addBot('daemon', ['ops']);
    const out = join(c.dataDir, 'out');
    const log = captureLog();
    const stop = new AbortController();
    let before: Record<string, string> = {};
    const during: Array<Record<string, string>> = [];
    const { sleep, delays } = scriptedSleep(async (delay, call) => {
      if (call === 1) {
        // The first run went well; take the service away before the next renewal.
        before = snapshot(out);
        await c.stop();
        return;
      }
      if (delay === TWENTY_MINUTES) {
        stop.abort();
        return;
      }
      during.push(snapshot(out));
      if (call === 4) await c.restart();
    });
    await runIdentityDaemon(c, token, out, { sleep, logger: log.logger }, stop.signal);

    expect(delays).toEqual([TWENTY_MINUTES, 1_000, 2_000, 4_000, TWENTY_MINUTES]);
    expect(during).toEqual([before, before, before]);
    const text = log.text();
    expect(text).toMatch(
      /WARN {2}renewing the bot identity failed: cannot reach the auth service at https:\/\/127\.0\.0\.1:\d+: ECONNREFUSED.*The artifacts of the last good run stay in place; retrying in 1s attempt=1 retry_at=\S+/,
    );
    expect(text).toContain('retrying in 2s attempt=2');
    expect(text).toContain('retrying in 4s attempt=3');
    expect(text).toContain('Next renewal in 20m');
    // Connecting again after each failure is not news: said once, as long as nothing about it changed.
    expect(text.match(/Connected to the auth service/g)).toHaveLength(1);
    // Recovery renewed the same instance: nothing was presented twice, nothing locked.
    const [instance] = await c.instances('daemon');
    expect(instance?.status.generation).toBe(2);
    expect(instance?.status.locked).toBeUndefined();
    expect(snapshot(out)['tlscert']).not.toBe(before['tlscert']);
  });

  it('says that nothing was written yet when its first attempt fails, and joins once the service is up', async () => {
    cluster = await startCluster();
    const c = cluster;
    const token = await c.addBot('early', ['ops']);
    const out = join(c.dataDir, 'early-out');
    await c.stop();
    const log = captureLog();
    const stop = new AbortController();
    const { sleep } = scriptedSleep(async (delay, call) => {
      if (call === 1) await c.restart();
      if (delay === TWENTY_MINUTES) stop.abort();
    });
    await runIdentityDaemon(c, token, out, { sleep, logger: log.logger }, stop.signal);
    expect(log.text()).toMatch(/ECONNREFUSED.*\. Nothing was written yet; retrying in 1s attempt=1/);
    expect(log.text()).not.toContain('last good run');
    expect(snapshot(out)['identity']).toBeDefined();
  });

  it('stops, naming the new pin, when the service comes back with another CA', async () => {
    cluster = await startCluster();
    const c = cluster;
    const token = await c.addBot('moved', ['ops']);
    let impostor: LocalAuthServer | undefined;
    const { sleep, delays } = scriptedSleep(async (_delay, call) => {
      if (call === 1) {
        await c.stop();
        impostor = await startLocalAuthServer({
          dataDir: join(c.dataDir, 'impostor'),
          port: c.port,
          clusterName: 'example.test',
          logger: silentLogger,
        });
      }
    });
    const log = captureLog();
    const agent = newAgent(c, agentConfig(c, token), { sleep, logger: log.logger });
    try {
      const error = await agent.run(new AbortController().signal).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: 'ca_pin_mismatch' });
      // The retry's reason says what happened: the service answered, with a certificate not trusted.
      expect(log.text()).toMatch(
        /presented a certificate this connection does not trust \(SELF_SIGNED_CERT_IN_CHAIN\): if the cluster's CA changed, the next attempt checks the CA pin again/,
      );
      expect((error as Error).message).toContain(`presented CA ${impostor?.caPin}`);
      // The renewal over the old trust fails (one retry); the reconnect checks the pin and stops.
      expect(delays).toEqual([TWENTY_MINUTES, 1_000]);
    } finally {
      agent.close();
      await impostor?.close();
    }
  });

  it('re-issues every output at once on reload (SIGHUP) instead of waiting for the interval, saying it does not read the config again', async () => {
    cluster = await startCluster();
    const c = cluster;
    const token = await c.addBot('hup', ['ops']);
    const stop = new AbortController();
    const started: Array<() => void> = [];
    const delays: number[] = [];
    // A sleep that really waits until it is woken, as the timer sleep does.
    const sleep: Sleep = (delay, signal) =>
      new Promise((resolve) => {
        delays.push(delay);
        signal.addEventListener('abort', () => resolve(), { once: true });
        started.shift()?.();
      });
    const sleeping = () => new Promise<void>((resolve) => started.push(resolve));
    const log = captureLog();
    const agent = newAgent(c, agentConfig(c, token), { sleep, logger: log.logger });

    const firstSleep = sleeping();
    const running = agent.run(stop.signal);
    await firstSleep;
    const firstCert = await fileText(memoryOutput(agent, 0), 'tlscert');

    const secondSleep = sleeping();
    agent.reload();
    await secondSleep;
    const secondCert = await fileText(memoryOutput(agent, 0), 'tlscert');

    stop.abort();
    await running;
    agent.close();
    expect(delays).toEqual([TWENTY_MINUTES, TWENTY_MINUTES]);
    expect(secondCert).not.toBe(firstCert);
    expect(log.text()).toContain(
      'Reload requested: renewing and writing every output now (the config file is read at start only: restart midbot to apply changes to it)',
    );
    expect(log.text()).toContain('Stopped');
    const [instance] = await c.instances('hup');
    expect(instance?.status.generation).toBe(2);
  });

  it('a reload during a run starts the next run right after it', async () => {
    cluster = await startCluster();
    const c = cluster;
    const token = await c.addBot('busy', ['ops']);
    const stop = new AbortController();
    let runs = 0;
    const { sleep, delays } = scriptedSleep(() => {
      stop.abort();
    });
    const agent = newAgent(c, agentConfig(c, token), { sleep });
    const runOnce = agent.runOnce.bind(agent);
    agent.runOnce = async () => {
      runs += 1;
      const summary = await runOnce();
      if (runs === 1) agent.reload();
      return summary;
    };
    await agent.run(stop.signal);
    agent.close();
    expect(runs).toBe(2);
    expect(delays).toEqual([TWENTY_MINUTES]);
  });

  it('says the next renewal comes in 20m, with no reason, while time passes as it logs', async () => {
    cluster = await startCluster();
    const c = cluster;
    const token = await c.addBot('ticking', ['ops']);
    const stop = new AbortController();
    const log = captureLog();
    const { sleep, delays } = scriptedSleep(() => stop.abort());
    // As a real clock does, it has moved on a little each time it is read.
    const ticking = {
      now: () => {
        c.clock.advance(1);
        return c.clock.now();
      },
    };
    const agent = newAgent(c, agentConfig(c, token), { sleep, logger: log.logger, clock: ticking });

    await agent.run(stop.signal);
    agent.close();

    expect(delays).toEqual([TWENTY_MINUTES]);
    expect(log.text()).toMatch(/Next renewal in 20m at=\S+$/m);
  });

  it('waits for the regular interval when an output is refused (retrying cannot help)', async () => {
    cluster = await startCluster();
    const c = cluster;
    const token = await c.addBot('refused', ['ops']);
    const stop = new AbortController();
    const { sleep, delays } = scriptedSleep(() => stop.abort());
    const agent = newAgent(
      c,
      agentConfig(c, token, {
        outputs: [{ type: 'application', app_name: 'payroll', destination: { type: 'memory' } }],
      }),
      { sleep },
    );
    await agent.run(stop.signal);
    agent.close();
    expect(delays).toEqual([TWENTY_MINUTES]);
  });

  it.each([
    ['2m', /Next renewal in 1m \(before renewal_interval 20m: the certificates expire at \S+\)/],
    // Halfway would be 5 s: a minute is the floor, and the log says what to raise.
    ['10s', /so it expires before it is replaced: raise the roles' max_session_ttl to 2m or more/],
  ])(
    'renews a minute after a run whose certificates a role caps at %s, not after 20m',
    async (cap, logged) => {
      cluster = await startCluster();
      const c = cluster;
      await c.server.service.admin.putResources(
        [
          {
            kind: 'role',
            version: 'v7',
            metadata: { name: 'capped' },
            spec: { options: { max_session_ttl: cap } },
          },
        ],
        false,
        'test',
      );
      const token = await c.addBot('capped', ['ops', 'capped']);
      const stop = new AbortController();
      const log = captureLog();
      const { sleep, delays } = scriptedSleep(() => stop.abort());
      const agent = newAgent(c, agentConfig(c, token), { sleep, logger: log.logger });

      await agent.run(stop.signal);
      agent.close();

      // Every 20 minutes, the bot identity and its output would live 2 minutes (or seconds) of each 20.
      expect(delays).toEqual([60_000]);
      expect(log.text()).toMatch(logged);
    },
  );

  it('closes in on the identity’s expiry even after the outputs have expired', async () => {
    cluster = await startCluster();
    const c = cluster;
    const token = await c.addBot('outlast', ['ops']);
    const stop = new AbortController();
    const log = captureLog();
    let identityExpiry = 0;
    const { sleep, delays } = scriptedSleep(async (_delay, call) => {
      if (call === 1) {
        await c.stop();
        // The 5 min outputs are long gone; the 1 h bot identity has 40 s left.
        c.clock.advance(identityExpiry - c.clock.now() - 40_000);
        return;
      }
      stop.abort();
    });
    const agent = newAgent(c, agentConfig(c, token, { certificate_ttl: '5m', renewal_interval: '2m' }), {
      sleep,
      logger: log.logger,
      backoff: { baseMs: 60_000 },
    });
    const first = agent.runOnce();
    identityExpiry = Date.parse((await first).identity.expiresAt);

    await agent.run(stop.signal);
    agent.close();

    // The backoff alone would wait a minute (half the interval), past the identity's expiry.
    expect(delays.slice(1)).toEqual([20_000]);
    expect(log.text()).toMatch(/retrying in 20s attempt=1 .*expired_outputs=outputs\[0\]/);
  });

  it('says why it stops when a run fails as it is asked to stop', async () => {
    cluster = await startCluster();
    const c = cluster;
    const token = await c.addBot('stopping', ['ops']);
    const stop = new AbortController();
    const log = captureLog();
    const store = identityStoreFor({ type: 'memory' });
    let checks = 0;
    const { sleep } = scriptedSleep(async () => {
      await c.stop();
    });
    const agent = newAgent(c, agentConfig(c, token), {
      sleep,
      logger: log.logger,
      identityStore: {
        describe: () => store.describe(),
        load: () => store.load(),
        save: (identity) => store.save(identity),
        // The second check comes right before the renewal: the stop request arrives during it.
        checkWritable: async () => {
          checks += 1;
          if (checks === 2) stop.abort();
        },
      },
    });

    await agent.run(stop.signal);
    agent.close();

    expect(log.text()).toMatch(
      /WARN {2}Stopping after a failed run: renewing the bot identity failed: cannot reach the auth service/,
    );
    expect(log.text()).toContain('Stopped');
  });

  /** An identity store in memory whose storage check fails as a folder made read-only does, on the checks `failing` names. */
  function storeFailingChecks(failing: (check: number) => boolean) {
    const store = identityStoreFor({ type: 'memory' });
    let checks = 0;
    return {
      describe: () => store.describe(),
      load: () => store.load(),
      save: (identity: Parameters<typeof store.save>[0]) => store.save(identity),
      checkWritable: async () => {
        checks += 1;
        if (failing(checks)) {
          throw new BotRunError(
            'checking that storage can be written',
            new DestinationError(
              'destination_permission_denied',
              'cannot write /var/lib/midbot: permission denied',
            ),
          );
        }
      },
    };
  }

  it('keeps retrying a storage folder made unwritable after it wrote, and carries on once it is fixed', async () => {
    cluster = await startCluster();
    const c = cluster;
    const token = await c.addBot('chmodded', ['ops']);
    const stop = new AbortController();
    const log = captureLog();
    const { sleep, delays } = scriptedSleep(() => {
      if (delays.filter((delay) => delay === TWENTY_MINUTES).length === 2) stop.abort();
    });
    // The check before the first renewal fails; the next one passes.
    const agent = newAgent(c, agentConfig(c, token), {
      sleep,
      logger: log.logger,
      identityStore: storeFailingChecks((check) => check === 2),
    });

    await agent.run(stop.signal);
    agent.close();

    expect(log.text()).toMatch(
      /checking that storage can be written failed: cannot write \/var\/lib\/midbot: permission denied.*retrying in/,
    );
    expect(delays).toHaveLength(3);
    expect(delays[1]).toBeLessThan(TWENTY_MINUTES);
    const [instance] = await c.instances('chmodded');
    expect(instance?.status.generation).toBe(2);
  });

  it('stops on a storage folder it cannot write before its first run: nothing was written, the token is unspent', async () => {
    cluster = await startCluster();
    const c = cluster;
    const token = await c.addBot('unwritable-first', ['ops']);
    const agent = newAgent(c, agentConfig(c, token), {
      identityStore: storeFailingChecks(() => true),
    });
    await expect(agent.run(new AbortController().signal)).rejects.toMatchObject({
      code: 'destination_permission_denied',
    });
    agent.close();
    expect(await c.instances('unwritable-first')).toEqual([]);
  });

  it('retries only the output that failed, with the identity it has, and renews at the next interval', async () => {
    cluster = await startCluster();
    const c = cluster;
    const token = await c.addBot('partial', ['ops']);
    const stop = new AbortController();
    const log = captureLog();
    const second = failingDestination(1);
    const { outputs, destinationFactory } = twoOutputs(second.destination);
    const { sleep, delays } = scriptedSleep((delay) => {
      if (delay === TWENTY_MINUTES) stop.abort();
    });
    const agent = newAgent(c, agentConfig(c, token, { outputs }), {
      sleep,
      logger: log.logger,
      destinationFactory,
    });

    await agent.run(stop.signal);
    agent.close();

    expect(delays).toEqual([1_000, TWENTY_MINUTES]);
    expect(log.text()).toContain('Wrote 1 of 1 outputs (a retry of those that failed)');
    // One join, no renewal: the retry used the identity it had, and re-issued nothing that was written.
    const [instance] = await c.instances('partial');
    expect(instance?.status.generation).toBe(1);
    expect(log.lines.filter((line) => line.includes('Generated identity'))).toHaveLength(2);
    expect(await fileText(memoryOutput(agent, 0), 'tlscert')).toBeTruthy();
    expect((await second.kept.read('tlscert'))?.length).toBeGreaterThan(0);
  });

  it('after a restart in an outage, closes in on the expiry of the identity in storage', async () => {
    cluster = await startCluster();
    const c = cluster;
    const token = await c.addBot('restarted', ['ops']);
    const store = identityStoreFor({ type: 'memory' });
    const first = newAgent(c, agentConfig(c, token), { identityStore: store });
    const { identity } = await first.runOnce();
    first.close();
    await c.stop();
    c.clock.advance(Date.parse(identity.expiresAt) - c.clock.now() - 40_000);
    const stop = new AbortController();
    const { sleep, delays } = scriptedSleep(() => stop.abort());
    const restarted = newAgent(c, agentConfig(c, token), {
      identityStore: store,
      sleep,
      backoff: { baseMs: 60_000 },
    });

    await restarted.run(stop.signal);
    restarted.close();

    // The backoff would wait a minute; the stored identity has 40 s left.
    expect(delays).toEqual([20_000]);
  });

  it('does not close in on the old expiry of an output refused for good', async () => {
    cluster = await startCluster();
    const c = cluster;
    const token = await c.addBot('orphaned', ['ops', 'apps']);
    const stop = new AbortController();
    const { sleep, delays } = scriptedSleep(async (_delay, call) => {
      if (call === 1) {
        await c.server.service.admin.deleteResource('app', 'grafana', undefined, 'test');
        // The grafana output written in the first run now has 10 minutes left.
        c.clock.advance(50 * 60_000);
        return;
      }
      stop.abort();
    });
    const agent = newAgent(
      c,
      agentConfig(c, token, {
        outputs: [
          { type: 'identity', destination: { type: 'memory' } },
          { type: 'application', app_name: 'grafana', destination: { type: 'memory' } },
        ],
      }),
      { sleep },
    );

    await agent.run(stop.signal);
    agent.close();

    expect(delays).toEqual([TWENTY_MINUTES, TWENTY_MINUTES]);
  });

  it('keeps renewing the identity and the written outputs on time while another output keeps failing', async () => {
    cluster = await startCluster();
    const c = cluster;
    const token = await c.addBot('stubborn', ['ops']);
    const stop = new AbortController();
    const { outputs, destinationFactory } = twoOutputs(
      failingDestination(Number.POSITIVE_INFINITY, 'destination_write_failed').destination,
    );
    let healthyExpiredAt: number | undefined;
    const started = c.clock.now();
    const agent = newAgent(
      c,
      agentConfig(c, token, { certificate_ttl: '10m', renewal_interval: '4m', outputs }),
      {
        destinationFactory,
        sleep: async (delay) => {
          c.clock.advance(delay);
          const certificate = new X509Certificate(await fileText(memoryOutput(agent, 0), 'tlscert'));
          if (Date.parse(certificate.validTo) <= c.clock.now()) healthyExpiredAt ??= c.clock.now();
          if (c.clock.now() - started > 70 * 60_000) stop.abort();
        },
      },
    );

    await agent.run(stop.signal);
    agent.close();

    expect(healthyExpiredAt).toBeUndefined();
    // Renewed about every 4 minutes over 70: the failing output did not hold the regular run back.
    const [instance] = await c.instances('stubborn');
    expect(instance?.status.generation).toBeGreaterThanOrEqual(15);
  });

  it('gives the identity’s own refusal when it is gone by the time failed outputs are retried', async () => {
    cluster = await startCluster();
    const c = cluster;
    const token = await c.addBot('vanished', ['ops']);
    const { outputs, destinationFactory } = twoOutputs(failingDestination(1).destination);
    const { sleep, delays } = scriptedSleep(async () => {
      const [instance] = await c.instances('vanished');
      await c.server.service.admin.deleteResource(
        'bot_instance',
        'vanished',
        instance?.metadata.name,
        'test',
      );
    });
    const agent = newAgent(c, agentConfig(c, token, { outputs }), { sleep, destinationFactory });

    const error = await agent.run(new AbortController().signal).catch((caught: unknown) => caught);
    agent.close();

    expect(delays).toEqual([1_000]);
    expect(error).toMatchObject({ code: 'instance_not_found' });
    expect((error as Error).message).toContain('midctl tokens add --type=bot --bot-name=vanished');
  });
});
