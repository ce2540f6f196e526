import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Sleep } from '../../../lib/bot/agent/sleep.js';
import { ManualClock } from '../../../lib/core/clock.js';
import { start } from '../../../lib/midbot/commands/start.js';
import type { MidbotIo, MidbotSignal } from '../../../lib/midbot/midbot-io.js';
import { type Cluster, startCluster } from './agent-fixture.js';

const run = promisify(execFile);

let cluster: Cluster;
let work: string;

beforeAll(async () => {
  cluster = await startCluster();
  work = mkdtempSync(join(tmpdir(), 'midbot-diag-'));
});

afterAll(async () => {
  await cluster?.dispose();
  rmSync(work, { recursive: true, force: true });
});

/** An io whose daemon sleeps until woken, with a promise for the next time it goes to sleep. */
function daemonIo(clock: ManualClock = cluster.clock) {
  const logs: string[] = [];
  const handlers = new Map<MidbotSignal, () => void>();
  const waits: Array<() => void> = [];
  const sleep: Sleep = (_delay, signal) =>
    new Promise((resolve) => {
      signal.addEventListener('abort', () => resolve(), { once: true });
      waits.shift()?.();
    });
  const io: MidbotIo = {
    write: () => {},
    writeLog: (line) => logs.push(line),
    clock,
    sleep,
    hostname: () => 'diag-host',
    cwd: () => work,
    readFile: (path) => readFileSync(path, 'utf8'),
    onSignal: (signal, handler) => {
      handlers.set(signal, handler);
      return () => handlers.delete(signal);
    },
  };
  return {
    io,
    logs,
    signal: (name: MidbotSignal) => handlers.get(name)?.(),
    nextSleep: () => new Promise<void>((resolve) => waits.push(resolve)),
  };
}

/** `curl` against the endpoint, as a probe or a scraper would: the status code and the body. */
async function curl(url: string): Promise<{ status: number; body: string }> {
  const { stdout } = await run('curl', ['-sS', '-w', '\n%{http_code}', url]);
  const cut = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(cut + 1)), body: stdout.slice(0, cut) };
}

function diagUrl(logs: readonly string[]): string {
  const url = logs.map((line) => /Diagnostics at (http:\/\/\S+)/.exec(line)?.[1]).find(Boolean);
  if (url === undefined) throw new Error(`no diagnostics URL in the log:\n${logs.join('\n')}`);
  return url;
}

describe('midbot start --diag-addr', () => {
  it('serves liveness, readiness and metrics that follow the artifacts through an outage until they expire', async () => {
    const token = await cluster.addBot('diag-bot', ['ops']);
    // The daemon's own clock, moved past the expiry below: the auth service's stays (its TLS would not be valid yet).
    const clock = new ManualClock(cluster.clock.now());
    const daemon = daemonIo(clock);
    let asleep = daemon.nextSleep();
    const running = start(
      {
        authServer: cluster.url,
        caPins: [cluster.server.caPin],
        token,
        destinationDir: 'diag-out',
        diagAddr: '127.0.0.1:0',
        logFormat: 'text',
      },
      daemon.io,
    );
    await asleep;
    const url = diagUrl(daemon.logs);

    const live = await curl(`${url}/livez`);
    expect(live.status).toBe(200);
    expect(JSON.parse(live.body)).toEqual({ status: 'ok' });
    const ready = await curl(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toMatchObject({
      status: 'healthy',
      reasons: [],
      outputs: [{ index: 0, type: 'identity', target: 'identity', expires_at: expect.any(String) }],
      last_attempt: { ok: true },
    });
    const metrics = await curl(`${url}/metrics`);
    expect(metrics.body).toContain('midbot_ready 1\n');
    expect(metrics.body).toContain('midbot_runs_total{result="success"} 1\n');

    // The auth service goes away; a renewal (SIGHUP) fails, and the valid artifacts keep the bot ready.
    await cluster.stop();
    asleep = daemon.nextSleep();
    daemon.signal('SIGHUP');
    await asleep;
    const duringOutage = await curl(`${url}/readyz`);
    expect(duringOutage.status).toBe(200);
    expect(JSON.parse(duringOutage.body).last_attempt).toMatchObject({
      ok: false,
      reason: expect.stringContaining('auth service'),
    });
    expect((await curl(`${url}/metrics`)).body).toContain('midbot_runs_total{result="failure"} 1\n');

    // Past the certificates' expiry, with the service still down, it is no longer ready.
    const expiresAt = JSON.parse(ready.body).outputs[0].expires_at as string;
    clock.set(Date.parse(expiresAt) + 1);
    const expired = await curl(`${url}/readyz`);
    expect(expired.status).toBe(503);
    expect(JSON.parse(expired.body).reasons).toContain(`outputs[0] (identity) expired at ${expiresAt}`);

    daemon.signal('SIGTERM');
    await expect(running).resolves.toBeUndefined();
    await expect(curl(`${url}/livez`)).rejects.toThrow(/Failed to connect|Connection refused/);
    await cluster.restart();
  });

  it('is not ready while an output could not be written, naming it and why', async () => {
    const token = await cluster.addBot('diag-missing-app', ['ops']);
    const daemon = daemonIo();
    const asleep = daemon.nextSleep();
    const running = start(
      {
        config: join(work, 'missing-app.yaml'),
        diagAddr: '127.0.0.1:0',
        logFormat: 'text',
      },
      {
        ...daemon.io,
        readFile: () => `version: v2
auth_server: "${cluster.url}"
onboarding: {join_method: token, token: "${token}", ca_pins: ["${cluster.server.caPin}"]}
storage: {type: memory}
outputs:
  - {type: identity, destination: {type: memory}}
  - {type: application, app_name: nope, destination: {type: memory}}
`,
      },
    );
    await asleep;

    const ready = await curl(`${diagUrl(daemon.logs)}/readyz`);

    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body)).toMatchObject({
      status: 'unhealthy',
      reasons: [
        expect.stringMatching(/^outputs\[1\] \(app "nope"\) has not been written: app "nope" does not exist/),
      ],
      outputs: [
        { index: 0, expires_at: expect.any(String) },
        { index: 1, expires_at: null, last_error: { code: 'app_not_found' } },
      ],
    });
    daemon.signal('SIGTERM');
    await running;
  });

  it('refuses an address it cannot listen on, naming the flag, before joining', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as { port: number }).port;
    const token = await cluster.addBot('diag-taken', ['ops']);
    try {
      await expect(
        start(
          {
            authServer: cluster.url,
            caPins: [cluster.server.caPin],
            token,
            diagAddr: `127.0.0.1:${port}`,
            logFormat: 'text',
          },
          daemonIo().io,
        ),
      ).rejects.toMatchObject({
        code: 'listen_failed',
        message: `--diag-addr: cannot listen on 127.0.0.1:${port} (EADDRINUSE): another program already listens there; stop it or choose another port`,
      });
      expect(await cluster.instances('diag-taken')).toEqual([]);
    } finally {
      taken.close();
    }
  });

  it('refuses an address that is no HOST:PORT, naming the flag or the key', async () => {
    const daemon = daemonIo();
    await expect(
      start(
        {
          authServer: cluster.url,
          caPins: [cluster.server.caPin],
          token: 'x',
          diagAddr: '3001',
          logFormat: 'text',
        },
        daemon.io,
      ),
    ).rejects.toThrow('--diag-addr: got "3001", expected HOST:PORT such as 127.0.0.1:3001');
  });

  it('refuses a diag_addr key that is no HOST:PORT, naming the file and the key', async () => {
    const daemon = daemonIo();
    const file = `version: v2
auth_server: "${cluster.url}"
onboarding: {join_method: token, token: x, ca_pins: ["${cluster.server.caPin}"]}
storage: {type: memory}
diag_addr: localhost
`;
    await expect(
      start({ config: '/etc/midbot.yaml', logFormat: 'text' }, { ...daemon.io, readFile: () => file }),
    ).rejects.toThrow(
      '/etc/midbot.yaml: diag_addr (line 5): got "localhost", expected HOST:PORT such as 127.0.0.1:3001',
    );
  });

  it('serves nothing with --oneshot, and says the address is ignored', async () => {
    const token = await cluster.addBot('diag-oneshot', ['ops']);
    const daemon = daemonIo();
    await start(
      {
        authServer: cluster.url,
        caPins: [cluster.server.caPin],
        token,
        oneshot: true,
        diagAddr: '127.0.0.1:0',
        logFormat: 'text',
      },
      daemon.io,
    );
    expect(daemon.logs.join('\n')).toContain(
      'diag_addr is ignored with oneshot: there is no daemon to probe',
    );
    expect(daemon.logs.join('\n')).not.toContain('Diagnostics at');
  });
});
