import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type LocalAuthServer, startLocalAuthServer } from '../../../lib/auth/local/local-auth-server.js';
import { BotAgent, type BotAgentOptions } from '../../../lib/bot/agent/bot-agent.js';
import type { Sleep } from '../../../lib/bot/agent/sleep.js';
import { type BotConfig, botConfigSchema } from '../../../lib/bot/config/bot-config.js';
import { MemoryDestination } from '../../../lib/bot/destinations/memory-destination.js';
import { ManualClock } from '../../../lib/core/clock.js';
import { createLogger, silentLogger } from '../../../lib/core/logger.js';

export const CLUSTER = 'example.test';

/** Roles of the guides, plus a narrow one per kind of access. */
export const ROLES = [
  {
    kind: 'role',
    version: 'v7',
    metadata: { name: 'ops' },
    spec: { allow: { logins: ['root'], node_labels: { '*': '*' } } },
  },
  {
    kind: 'role',
    version: 'v7',
    metadata: { name: 'apps' },
    spec: { allow: { app_labels: { team: 'observability' } } },
  },
  {
    kind: 'role',
    version: 'v7',
    metadata: { name: 'hosts' },
    spec: { allow: { rules: [{ resources: ['host_cert'], verbs: ['create'] }] } },
  },
];

export const RESOURCES = [
  {
    kind: 'app',
    version: 'v3',
    metadata: { name: 'grafana', labels: { team: 'observability' } },
    spec: { uri: 'http://127.0.0.1:3000' },
  },
  {
    kind: 'app',
    version: 'v3',
    metadata: { name: 'payroll', labels: { team: 'finance' } },
    spec: { uri: 'http://127.0.0.1:3001' },
  },
];

/** An in-process auth service on a manual clock that starts now (TLS itself runs on real time). */
export interface Cluster {
  readonly server: LocalAuthServer;
  readonly dataDir: string;
  readonly clock: ManualClock;
  readonly url: string;
  readonly port: number;
  addBot(name: string, roles: string[], ttlSeconds?: number): Promise<string>;
  addToken(bot: string, ttlSeconds?: number): Promise<string>;
  /** The bot's instances as `midctl get bot_instance/BOT` shows them. */
  instances(bot: string): Promise<InstanceResource[]>;
  /** Stops the service (the data directory stays). */
  stop(): Promise<void>;
  /** Starts it again on the same data directory and port. */
  restart(): Promise<void>;
  dispose(): Promise<void>;
}

export interface InstanceResource {
  metadata: { name: string };
  status: {
    generation: number;
    locked?: { reason: string };
    latest_heartbeats: Array<{
      hostname: string;
      version: string;
      one_shot: boolean;
      outputs_written: number;
      uptime_seconds: number;
    }>;
    latest_authentications: Array<{ join_method: string; generation: number }>;
  };
}

export async function startCluster(): Promise<Cluster> {
  const root = mkdtempSync(join(tmpdir(), 'midbot-agent-'));
  const dataDir = join(root, 'auth');
  const clock = new ManualClock(Date.now());
  const launch = (port = 0) =>
    startLocalAuthServer({ dataDir, port, clusterName: CLUSTER, logger: silentLogger, clock });
  let server = await launch();
  await server.service.admin.putResources([...ROLES, ...RESOURCES], false, 'test');
  const port = server.port;
  let running = true;
  return {
    get server() {
      return server;
    },
    dataDir: root,
    clock,
    url: server.url,
    port,
    async addBot(name, roles, ttlSeconds) {
      const added = await server.service.admin.addBot(
        { name, roles, ...(ttlSeconds === undefined ? {} : { ttl_seconds: ttlSeconds }) },
        'test',
      );
      return added.token.name;
    },
    async addToken(bot, ttlSeconds) {
      return (await server.service.admin.addToken(bot, ttlSeconds, 'test')).metadata.name;
    },
    async instances(bot) {
      return (await server.service.admin.getResources('bot_instance', bot)) as unknown as InstanceResource[];
    },
    async stop() {
      if (running) await server.close();
      running = false;
    },
    async restart() {
      server = await launch(port);
      running = true;
    },
    async dispose() {
      if (running) await server.close();
      running = false;
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** A v2 config for `cluster` with memory storage and the given outputs (memory destinations by default). */
export function agentConfig(cluster: Cluster, token: string, extra: Record<string, unknown> = {}): BotConfig {
  return botConfigSchema.parse({
    version: 'v2',
    auth_server: cluster.url,
    onboarding: { join_method: 'token', token, ca_pins: [cluster.server.caPin] },
    storage: { type: 'memory' },
    outputs: [{ type: 'identity', destination: { type: 'memory' } }],
    ...extra,
  });
}

/** Log lines the agent wrote, as text. */
export interface CapturedLog {
  readonly lines: string[];
  text(): string;
}

export function captureLog(): CapturedLog & { logger: ReturnType<typeof createLogger> } {
  const lines: string[] = [];
  return {
    lines,
    text: () => lines.join('\n'),
    logger: createLogger({ format: 'text', level: 'debug', write: (line) => lines.push(line) }),
  };
}

/** A sleep that never waits: it records the delay and runs `onSleep`, which may abort or reload. */
export function scriptedSleep(onSleep: (delay: number, call: number) => Promise<void> | void): {
  sleep: Sleep;
  delays: number[];
} {
  const delays: number[] = [];
  return {
    delays,
    sleep: async (delay) => {
      delays.push(delay);
      await onSleep(delay, delays.length);
    },
  };
}

export function newAgent(
  cluster: Cluster,
  config: BotConfig,
  overrides: Partial<BotAgentOptions> = {},
): BotAgent {
  return new BotAgent({
    config,
    clock: cluster.clock,
    sleep: async () => {},
    logger: silentLogger,
    hostname: 'test-host',
    random: () => 0,
    ...overrides,
  });
}

/** The memory destination of output `index`. */
export function memoryOutput(agent: BotAgent, index: number): MemoryDestination {
  const destination = agent.outputs[index]?.destination;
  if (!(destination instanceof MemoryDestination)) throw new Error(`outputs[${index}] is not in memory`);
  return destination;
}

export async function fileText(destination: MemoryDestination, name: string): Promise<string> {
  const data = await destination.read(name);
  if (data === undefined) throw new Error(`${name} was not written`);
  return data.toString('utf8');
}
