import { describe, expect, it } from 'vitest';
import { AgentHealth } from '../../../lib/bot/agent/agent-health.js';
import type { OutputResult, RunSummary } from '../../../lib/bot/agent/run-summary.js';
import { prometheusMetrics, readyzBody } from '../../../lib/midbot/diag-server.js';

const T0 = Date.parse('2026-11-21T12:00:00Z');
const HOUR = 3_600_000;
const OUTPUTS = [
  { index: 0, type: 'identity' as const, target: 'identity' },
  { index: 1, type: 'application' as const, target: 'app "grafana"' },
];

const written = (index: number, expiresAt: number): OutputResult => ({
  status: 'written',
  index,
  type: OUTPUTS[index]?.type ?? 'identity',
  target: OUTPUTS[index]?.target ?? '',
  destination: 'directory /out',
  serial: '01',
  expiresAt: new Date(expiresAt).toISOString(),
  files: [],
});
const failed = (index: number, message: string, retryable = true): OutputResult => ({
  status: 'failed',
  index,
  type: OUTPUTS[index]?.type ?? 'identity',
  target: OUTPUTS[index]?.target ?? '',
  destination: 'directory /out',
  code: 'app_not_found',
  message,
  retryable,
});
const summary = (outputs: OutputResult[], identityExpiresAt = T0 + HOUR): RunSummary => ({
  identity: {
    botName: 'robot',
    instanceId: 'i-1',
    generation: 1,
    serial: '02',
    expiresAt: new Date(identityExpiresAt).toISOString(),
    obtained: 'joined',
  },
  outputs,
  written: outputs.filter((output) => output.status === 'written').length,
  failed: outputs.filter((output) => output.status === 'failed').length,
  heartbeat: true,
});

describe('AgentHealth', () => {
  it('is initializing until the first run ends', () => {
    const health = new AgentHealth(OUTPUTS);
    expect(health.readiness(T0)).toEqual({
      status: 'initializing',
      reasons: ['the first run has not ended yet'],
    });
  });

  it('is healthy while every output holds unexpired artifacts, and unhealthy once one expires', () => {
    const health = new AgentHealth(OUTPUTS);
    health.ran(summary([written(0, T0 + HOUR), written(1, T0 + HOUR / 2)]), T0);

    expect(health.readiness(T0 + 1)).toEqual({ status: 'healthy', reasons: [] });
    expect(health.readiness(T0 + HOUR / 2)).toEqual({
      status: 'unhealthy',
      reasons: ['outputs[1] (app "grafana") expired at 2026-11-21T12:30:00.000Z'],
    });
  });

  it('names an output never written, with the reason its last attempt failed', () => {
    const health = new AgentHealth(OUTPUTS);
    health.ran(summary([written(0, T0 + HOUR), failed(1, 'app "grafana" does not exist')]), T0);

    expect(health.readiness(T0)).toEqual({
      status: 'unhealthy',
      reasons: ['outputs[1] (app "grafana") has not been written: app "grafana" does not exist'],
    });
  });

  it('stays ready through a failed renewal while the artifacts are valid, and shows the failure', () => {
    const health = new AgentHealth(OUTPUTS);
    health.ran(summary([written(0, T0 + HOUR), written(1, T0 + HOUR)]), T0);
    health.failed('the auth service is unreachable', T0 + 20 * 60_000);
    health.scheduled(T0 + 21 * 60_000);

    const body = readyzBody(health, T0 + 20 * 60_000);
    expect(body).toMatchObject({
      status: 'healthy',
      last_attempt: { at: '2026-11-21T12:20:00.000Z', ok: false, reason: 'the auth service is unreachable' },
      last_success_at: '2026-11-21T12:00:00.000Z',
      next_run_at: '2026-11-21T12:21:00.000Z',
    });
  });

  it('takes a retry of some outputs as their new state, leaving the others as they were', () => {
    const health = new AgentHealth(OUTPUTS);
    health.ran(summary([written(0, T0 + HOUR), failed(1, 'disk full')]), T0);
    health.ran(summary([written(1, T0 + 2 * HOUR)]), T0 + 60_000);

    expect(health.readiness(T0 + 90_000).status).toBe('healthy');
    expect(readyzBody(health, T0 + 90_000).outputs).toEqual([
      { index: 0, type: 'identity', target: 'identity', expires_at: '2026-11-21T13:00:00.000Z' },
      { index: 1, type: 'application', target: 'app "grafana"', expires_at: '2026-11-21T14:00:00.000Z' },
    ]);
  });

  it('is unhealthy when the bot identity itself has expired', () => {
    const health = new AgentHealth([OUTPUTS[0] as (typeof OUTPUTS)[0]]);
    health.ran(summary([written(0, T0 + 2 * HOUR)], T0 + HOUR), T0);
    expect(health.readiness(T0 + HOUR).reasons).toEqual([
      'the bot identity expired at 2026-11-21T13:00:00.000Z',
    ]);
  });
});

describe('prometheusMetrics', () => {
  it('writes the text format, with timestamps in seconds and label values escaped', () => {
    const health = new AgentHealth(OUTPUTS);
    health.ran(summary([written(0, T0 + HOUR), failed(1, 'no')]), T0);
    health.failed('unreachable', T0 + 60_000);
    health.scheduled(T0 + 120_000);

    const text = prometheusMetrics(health, T0 + 60_000);

    expect(text).toContain('# TYPE midbot_ready gauge\nmidbot_ready 0\n');
    expect(text).toContain('midbot_runs_total{result="success"} 0\nmidbot_runs_total{result="failure"} 2\n');
    expect(text).toContain(`midbot_next_run_timestamp_seconds ${(T0 + 120_000) / 1000}\n`);
    expect(text).toContain(`midbot_identity_expiry_timestamp_seconds ${(T0 + HOUR) / 1000}\n`);
    expect(text).toContain(
      `midbot_output_expiry_timestamp_seconds{output="0",type="identity",target="identity"} ${(T0 + HOUR) / 1000}\n`,
    );
    expect(text).toContain(
      'midbot_output_last_attempt_failed{output="1",type="application",target="app \\"grafana\\""} 1\n',
    );
    // Nothing yet to say about a success that never happened.
    expect(text).not.toContain('midbot_last_success_timestamp_seconds');
    expect(text.endsWith('\n')).toBe(true);
  });
});
