import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startLocalAuthServer } from '../../lib/auth/local/local-auth-server.js';
import { BotAgent } from '../../lib/bot/agent/bot-agent.js';
import { botConfigSchema } from '../../lib/bot/config/bot-config.js';
import { AppCredentialsFolder } from '../../lib/bot/proxy/app-credentials.js';
import { startLocalAppProxy } from '../../lib/bot/proxy/local-app-proxy.js';
import { systemClock } from '../../lib/core/clock.js';
import { silentLogger } from '../../lib/core/logger.js';
import { startMtlsAppWithOwnCa } from '../../test/support/mtls-app-server.js';
import { timed } from './bare-round-trips.js';

export interface AppProxyRounds {
  /** One request straight to the app with the output's certificate (keep-alive), per round, in ms. */
  readonly directMs: number[];
  /** The same request through `midbot proxy app` (keep-alive to the proxy and from it), in ms. */
  readonly proxiedMs: number[];
}

/**
 * `midbot proxy app` against a request that presents the certificate itself: a real application
 * output written by the agent, an mTLS app on loopback, `rounds` requests of each, interleaved.
 */
export async function benchAppProxy(rounds: number): Promise<AppProxyRounds> {
  const dir = mkdtempSync(join(tmpdir(), 'mid-bench-proxy-'));
  const auth = await startLocalAuthServer({ dataDir: join(dir, 'auth'), port: 0, logger: silentLogger });
  try {
    await auth.service.admin.putResources(
      [
        {
          kind: 'role',
          version: 'v7',
          metadata: { name: 'apps' },
          spec: { allow: { app_labels: { '*': '*' } } },
        },
        { kind: 'app', version: 'v3', metadata: { name: 'grafana' }, spec: { uri: 'https://127.0.0.1' } },
      ],
      false,
      'bench',
    );
    const { token } = await auth.service.admin.addBot({ name: 'bench', roles: ['apps'] }, 'bench');
    const folder = join(dir, 'grafana');
    const agent = new BotAgent({
      config: botConfigSchema.parse({
        version: 'v2',
        auth_server: auth.url,
        onboarding: { join_method: 'token', token: token.name, ca_pins: [auth.caPin] },
        storage: { type: 'memory' },
        outputs: [
          { type: 'application', app_name: 'grafana', destination: { type: 'directory', path: folder } },
        ],
      }),
      clock: systemClock,
      sleep: async () => {},
      logger: silentLogger,
      hostname: 'bench',
    });
    await agent.runOnce();
    agent.close();
    const { app, servicesCa } = await startMtlsAppWithOwnCa(dir, {
      clientCaPem: readFileSync(join(folder, 'tlscacerts'), 'utf8'),
    });
    const proxy = await startLocalAppProxy({
      credentials: new AppCredentialsFolder(folder, 'grafana', systemClock),
      appUri: new URL(app.url),
      appCaPem: servicesCa.certPem,
      logger: silentLogger,
    });
    const directAgent = new https.Agent({
      keepAlive: true,
      cert: readFileSync(join(folder, 'tlscert')),
      key: readFileSync(join(folder, 'key')),
      ca: servicesCa.certPem,
    });
    const proxyAgent = new http.Agent({ keepAlive: true });
    const direct = () => get(https.get(`${app.url}health`, { agent: directAgent }));
    const proxied = () => get(http.get(`${proxy.url}/health`, { agent: proxyAgent }));
    const directMs: number[] = [];
    const proxiedMs: number[] = [];
    for (let round = 0; round < rounds + 50; round += 1) {
      const a = await timed(direct);
      const b = await timed(proxied);
      // The first 50 open the connections and let V8 optimise.
      if (round >= 50) {
        directMs.push(a);
        proxiedMs.push(b);
      }
    }
    directAgent.destroy();
    proxyAgent.destroy();
    await proxy.close();
    await app.stop();
    return { directMs, proxiedMs };
  } finally {
    await auth.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

function get(request: http.ClientRequest): Promise<void> {
  return new Promise((resolve, reject) => {
    request.on('response', (response) => {
      if (response.statusCode !== 200) reject(new Error(`the app answered ${response.statusCode}`));
      response.resume().on('end', resolve);
    });
    request.on('error', reject);
  });
}
