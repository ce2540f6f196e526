import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AgentHealth } from '../bot/agent/agent-health.js';
import { DIAG_ADDR_EXAMPLE } from '../bot/config/bot-config.js';
import { explainListenError, parseListenAddress } from '../core/listen-address.js';

export interface DiagServer {
  /** `http://HOST:PORT`, with the port the system chose for port 0. */
  readonly url: string;
  close(): Promise<void>;
}

/**
 * The daemon's diagnostics endpoint (tbot's `--diag-addr`), plain HTTP for probes and scrapers:
 *
 * - `GET /livez`: 200 while the process answers (a liveness probe);
 * - `GET /readyz`: 200 while every output holds valid artifacts, 503 before the first run ends and
 *   when one has none (see `AgentHealth`), with the reasons and each output's state as JSON;
 * - `GET /metrics`: the same in the Prometheus text format.
 *
 * It shows names, expiries and errors, never a certificate or key; still, bind it to loopback or a
 * pod's own address rather than a public one.
 *
 * @param name the setting the address came from, for errors (`--diag-addr`, `diag_addr`)
 */
export async function startDiagServer(
  address: string,
  name: string,
  health: AgentHealth,
  now: () => number,
): Promise<DiagServer> {
  const { host, port } = parseListenAddress(address, name, DIAG_ADDR_EXAMPLE);
  const server = createServer((request, response) => answer(request, response, health, now()));
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error) => reject(explainListenError(error, name, address)));
    server.listen(port, host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  const shownHost = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return {
    url: `http://${shownHost}:${bound.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function answer(request: IncomingMessage, response: ServerResponse, health: AgentHealth, now: number): void {
  const path = (request.url ?? '/').split('?')[0];
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    send(response, 405, 'application/json', { error: 'only GET is served here' }, { allow: 'GET, HEAD' });
    return;
  }
  switch (path) {
    case '/livez':
      send(response, 200, 'application/json', { status: 'ok' });
      return;
    case '/readyz': {
      const body = readyzBody(health, now);
      send(response, body.status === 'healthy' ? 200 : 503, 'application/json', body);
      return;
    }
    case '/metrics':
      send(response, 200, 'text/plain; version=0.0.4; charset=utf-8', prometheusMetrics(health, now));
      return;
    default:
      send(response, 404, 'application/json', { error: `no ${path} here; try /livez, /readyz or /metrics` });
  }
}

function send(
  response: ServerResponse,
  status: number,
  type: string,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = typeof body === 'string' ? body : `${JSON.stringify(body, null, 2)}\n`;
  response.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers });
  response.end(text);
}

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

/** What `/readyz` answers: the verdict, its reasons, each output and the latest attempt. */
export function readyzBody(health: AgentHealth, now: number) {
  const readiness = health.readiness(now);
  const state = health.snapshot();
  return {
    status: readiness.status,
    reasons: readiness.reasons,
    identity_expires_at: iso(state.identityExpiresAt),
    outputs: state.outputs.map((output) => ({
      index: output.index,
      type: output.type,
      target: output.target,
      expires_at: iso(output.expiresAt),
      ...(output.failure === undefined ? {} : { last_error: output.failure }),
    })),
    last_attempt:
      state.lastAttempt === undefined
        ? null
        : {
            at: iso(state.lastAttempt.at),
            ok: state.lastAttempt.ok,
            ...(state.lastAttempt.reason === undefined ? {} : { reason: state.lastAttempt.reason }),
          },
    last_success_at: iso(state.lastSuccessAt),
    next_run_at: iso(state.nextRunAt),
  };
}

/** A label value in the text format: backslash, double quote and newline escaped. */
function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** The Prometheus text format (0.0.4) of the agent's state; timestamps in seconds. */
export function prometheusMetrics(health: AgentHealth, now: number): string {
  const state = health.snapshot();
  const lines: string[] = [];
  const metric = (
    name: string,
    type: 'gauge' | 'counter',
    help: string,
    samples: Array<[string, number]>,
  ) => {
    if (samples.length === 0) return;
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
    for (const [labels, value] of samples) lines.push(`${name}${labels} ${value}`);
  };
  const seconds = (ms: number) => ms / 1000;
  metric('midbot_ready', 'gauge', 'Whether every output holds unexpired artifacts (1) or not (0).', [
    ['', health.readiness(now).status === 'healthy' ? 1 : 0],
  ]);
  metric('midbot_runs_total', 'counter', 'Runs (and retries of failed outputs) by result.', [
    ['{result="success"}', state.runs.ok],
    ['{result="failure"}', state.runs.failed],
  ]);
  const at = (ms: number | undefined): Array<[string, number]> =>
    ms === undefined ? [] : [['', seconds(ms)]];
  metric(
    'midbot_last_success_timestamp_seconds',
    'gauge',
    'When a run last wrote everything it tried.',
    at(state.lastSuccessAt),
  );
  metric('midbot_next_run_timestamp_seconds', 'gauge', 'When the next run is due.', at(state.nextRunAt));
  metric(
    'midbot_identity_expiry_timestamp_seconds',
    'gauge',
    "When the bot's own identity expires.",
    at(state.identityExpiresAt),
  );
  const outputLabels = (output: (typeof state.outputs)[number]) =>
    `{output="${output.index}",type="${output.type}",target="${label(output.target)}"}`;
  metric(
    'midbot_output_expiry_timestamp_seconds',
    'gauge',
    "When each output's certificates expire.",
    state.outputs.flatMap(
      (output): Array<[string, number]> =>
        output.expiresAt === undefined ? [] : [[outputLabels(output), seconds(output.expiresAt)]],
    ),
  );
  metric(
    'midbot_output_last_attempt_failed',
    'gauge',
    'Whether the latest attempt at each output failed (1) or wrote it (0).',
    state.outputs.flatMap(
      (output): Array<[string, number]> =>
        output.expiresAt === undefined && output.failure === undefined
          ? []
          : [[outputLabels(output), output.failure === undefined ? 0 : 1]],
    ),
  );
  return `${lines.join('\n')}\n`;
}
