import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterEach, describe, expect, it } from 'vitest';
import type { Sleep } from '../../lib/bot/agent/sleep.js';
import { SecretsManagerDestination } from '../../lib/bot/destinations/secrets-manager-destination.js';
import { IdentityLoader } from '../../lib/consumer/identity-loader.js';
import { agentConfig, type Cluster, newAgent, startCluster } from '../bot/agent/agent-fixture.js';
import { AWS_TEST_CREDENTIALS } from '../support/aws-test-credentials.js';
import {
  type SecretsManagerEmulator,
  startSecretsManagerEmulator,
} from '../support/secrets-manager-emulator.js';

/**
 * The outage drill of SECURITY rule 14, in simulated time: 1 h certificates renewed every 20 min, the
 * auth service down for a while, a consumer that asks for its identity every simulated minute. The
 * agent and the consumer run on one manual clock; every network call is real (HTTPS to the auth
 * service, the SDK to a Secrets Manager emulator).
 *
 * How long an outage the defaults ride out depends on when it starts: the certificates in place have
 * between 40 and 60 minutes left when it does. Both ends are drilled with a 40-minute outage. In the
 * worst phase (down just before a renewal) the service comes back a minute before the certificates
 * expire; the agent gets in because its retries close in on that expiry (`halfwayToExpiry`) instead
 * of waiting out its 5-minute backoff cap. README "Residual risks" states the bound.
 */
const MINUTE = 60_000;
const SECRET = 'machine-id/drill/identity';

let cluster: Cluster | undefined;
let sm: SecretsManagerEmulator | undefined;

afterEach(async () => {
  await cluster?.dispose();
  await sm?.stop();
  cluster = undefined;
  sm = undefined;
});

interface Drill {
  /** Simulated minute the service stops (just after the 20-minute renewal, or just before the 40th). */
  readonly down: number;
  readonly minutes: number;
}

describe.each<[string, Drill]>([
  ['starting right after a renewal', { down: 21, minutes: 40 }],
  ['starting just before a renewal (the worst phase)', { down: 39, minutes: 40 }],
])('an auth service outage %s', (_phase, drill) => {
  it(`keeps the consumer on a valid identity through ${drill.minutes} minutes, and the bot recovers`, async () => {
    cluster = await startCluster();
    sm = await startSecretsManagerEmulator();
    const c = cluster;
    const emulator = sm;
    const client = new SecretsManagerClient({
      region: emulator.region,
      endpoint: emulator.url,
      credentials: { ...AWS_TEST_CREDENTIALS },
      maxAttempts: 1,
    });
    const token = await c.addBot('drill', ['ops']);
    const t0 = c.clock.now();
    const minute = () => Math.floor((c.clock.now() - t0) / MINUTE);
    const loader = new IdentityLoader({ client, clock: () => c.clock.now() });
    const stop = new AbortController();
    const log: string[] = [];
    let leastLeft = Number.POSITIVE_INFINITY;

    /** What happens at the start of each simulated minute: the consumer, the outage, the end. */
    const tick = async () => {
      const at = minute();
      if (at === drill.down) {
        await c.stop();
        log.push(`${at}: auth service down`);
      }
      if (at === drill.down + drill.minutes) {
        // The restarted service issues its TLS serving certificate on the shared clock, while TLS checks
        // it against real time: issue it at real time, then go back to the simulated minute.
        const simulated = c.clock.now();
        c.clock.set(Date.now());
        await c.restart();
        c.clock.set(simulated);
        log.push(`${at}: auth service back`);
      }
      // Secrets Manager fails too for a few minutes while the consumer's refresh is due.
      emulator.setFault('GetSecretValue', at >= 57 && at < 62 ? { kind: 'internal-error' } : undefined);
      const identity = await loader.load(SECRET).catch((error: unknown) => {
        throw new Error(`minute ${at}: ${String(error)}\n${log.join('\n')}`);
      });
      const left = identity.expiresAt.getTime() - c.clock.now();
      expect(left, `minute ${at}: the consumer got an expired identity`).toBeGreaterThan(0);
      leastLeft = Math.min(leastLeft, left);
      if (at >= 100) stop.abort();
    };

    /** The agent's waits, walked through minute by minute on the shared clock. */
    const sleep: Sleep = async (delay, signal) => {
      const until = c.clock.now() + delay;
      while (c.clock.now() < until && !signal.aborted) {
        const nextMinute = t0 + (minute() + 1) * MINUTE;
        c.clock.set(Math.min(until, nextMinute));
        if (c.clock.now() === nextMinute) await tick();
      }
    };

    const agent = newAgent(
      c,
      agentConfig(c, token, {
        certificate_ttl: '1h',
        renewal_interval: '20m',
        outputs: [{ type: 'identity', destination: { type: 'aws_secrets_manager', name: SECRET } }],
      }),
      {
        sleep,
        destinationFactory: (destination) => ({
          destination: new SecretsManagerDestination({
            client,
            secretId: destination.type === 'aws_secrets_manager' ? destination.name : '',
            sleep: async () => {},
          }),
          artifactDir: '/run/midbot',
        }),
        logger: {
          debug: () => {},
          info: (message) => {
            if (message.startsWith('Wrote')) log.push(`${minute()}: ${message}`);
          },
          warn: (message) => {
            if (message.includes('retrying')) log.push(`${minute()}: retry (${message.slice(0, 120)})`);
          },
          error: () => {},
          child() {
            return this;
          },
        },
      },
    );
    try {
      await agent.run(stop.signal);
    } finally {
      agent.close();
      client.destroy();
    }

    const wrote = log.filter((line) => line.includes('Wrote 1 of 1'));
    const back = drill.down + drill.minutes;
    // Renewed on schedule before the outage, nothing during it, then again soon after it ended.
    expect(wrote.map((line) => Number.parseInt(line, 10)).filter((at) => at < drill.down)).toEqual(
      drill.down > 40 ? [0, 20, 40] : drill.down > 20 ? [0, 20] : [0],
    );
    expect(
      wrote.some((line) => {
        const at = Number.parseInt(line, 10);
        return at >= drill.down && at < back;
      }),
    ).toBe(false);
    const recovered = wrote.map((line) => Number.parseInt(line, 10)).find((at) => at >= back);
    expect(recovered, log.join('\n')).toBeDefined();
    expect((recovered as number) - back).toBeLessThanOrEqual(5);
    // …and before the certificates of the 20-minute run expired.
    expect(recovered as number).toBeLessThan(80);
    expect(log.filter((line) => line.includes(': retry')).length).toBeGreaterThan(3);
    // The consumer ends on an identity issued after the outage, and never came near expiry.
    const final = await loader.load(SECRET);
    expect(final.issuedAt.getTime()).toBeGreaterThanOrEqual(t0 + back * MINUTE);
    // In the worst phase the consumer's identity gets within a minute of its expiry, never past it.
    expect(leastLeft).toBeGreaterThan(0);
    // One instance throughout, renewed in order, never locked.
    const [instance] = await c.instances('drill');
    expect(instance?.status.locked).toBeUndefined();
  });
});
