import { afterEach, describe, expect, it, vi } from 'vitest';

describe('the bot Lambda given diag_addr', () => {
  const saved = process.env['MID_BOT_CONFIG'];
  afterEach(() => {
    if (saved === undefined) delete process.env['MID_BOT_CONFIG'];
    else process.env['MID_BOT_CONFIG'] = saved;
    vi.restoreAllMocks();
    vi.resetModules();
  });

  it('warns at cold start that a Lambda serves no endpoint', async () => {
    process.env['MID_BOT_CONFIG'] = JSON.stringify({
      version: 'v2',
      // Nothing listens on port 1: the run fails after the cold start, which is all this needs.
      auth_server: 'https://127.0.0.1:1',
      onboarding: { join_method: 'token', token: 'one-time', ca_pins: [`sha256:${'1'.repeat(64)}`] },
      storage: { type: 'memory' },
      diag_addr: '127.0.0.1:3001',
    });
    const lines: string[] = [];
    vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      lines.push(String(chunk));
      return true;
    });
    vi.spyOn(console, 'log').mockImplementation(() => {});
    vi.resetModules();
    const { handler } = await import('../../lambdas/bot.js');

    await expect(handler({ source: 'aws.scheduler' })).rejects.toThrow();

    const warning = lines.map((line) => JSON.parse(line)).find((entry) => entry.level === 'warn');
    expect(warning).toMatchObject({
      message: 'diag_addr is ignored: a Lambda serves no endpoint; watch its invocations and logs instead',
    });
  });
});
