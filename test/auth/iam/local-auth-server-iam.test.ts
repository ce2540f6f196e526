import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { startLocalAuthServer } from '../../../lib/auth/local/local-auth-server.js';
import { localServerFiles } from '../../../lib/auth/local/local-server-files.js';
import { BotApiClient } from '../../../lib/bot/auth-client/bot-api-client.js';
import { systemClock } from '../../../lib/core/clock.js';
import { silentLogger } from '../../../lib/core/logger.js';
import { buildMidctlProgram } from '../../../lib/midctl/program.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function dataDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'mid-iam-local-'));
  dirs.push(dir);
  return dir;
}

function midctl() {
  const output: string[] = [];
  const program = buildMidctlProgram({
    write: (text) => output.push(text),
    note: () => {},
    readStdin: () => '',
    now: () => Date.now(),
    untilStopped: async () => {},
  });
  program.exitOverride();
  return { program, output };
}

describe('the iam join in the local auth server', () => {
  it('serves the challenge route by default and not when iam is turned off', async () => {
    const onDir = dataDir();
    const offDir = dataDir();
    const on = await startLocalAuthServer({ dataDir: onDir, port: 0, logger: silentLogger });
    const off = await startLocalAuthServer({
      dataDir: offDir,
      port: 0,
      logger: silentLogger,
      iamJoin: false,
    });
    const onClient = new BotApiClient(
      on.url,
      readFileSync(localServerFiles(onDir).hostCa, 'utf8'),
      systemClock,
    );
    const offClient = new BotApiClient(
      off.url,
      readFileSync(localServerFiles(offDir).hostCa, 'utf8'),
      systemClock,
    );
    try {
      await expect(onClient.challenge()).resolves.toMatchObject({
        challenge: expect.stringMatching(/^[\w-]{43}$/),
      });
      await expect(offClient.challenge()).rejects.toMatchObject({ code: 'no_such_route' });
    } finally {
      onClient.close();
      offClient.close();
      await on.close();
      await off.close();
    }
  });

  it('refuses a test STS endpoint that is not loopback, before anything starts', async () => {
    await expect(
      startLocalAuthServer({
        dataDir: dataDir(),
        port: 0,
        logger: silentLogger,
        iamJoin: { stsEndpointOverrideForTests: 'https://sts.evil.example' },
      }),
    ).rejects.toMatchObject({ code: 'invalid_sts_endpoint_override' });
  });

  it('takes the test STS endpoint from a hidden midctl flag and refuses a non-loopback one', async () => {
    const { program } = midctl();
    await expect(
      program.parseAsync(
        [
          '--data-dir',
          dataDir(),
          'auth',
          'start',
          '--listen',
          '127.0.0.1:0',
          '--insecure-sts-endpoint-for-tests',
          'http://10.0.0.1:4566',
        ],
        { from: 'user' },
      ),
    ).rejects.toMatchObject({ code: 'invalid_sts_endpoint_override' });

    const started = midctl();
    await started.program.parseAsync(
      [
        '--data-dir',
        dataDir(),
        'auth',
        'start',
        '--listen',
        '127.0.0.1:0',
        '--log-format',
        'json',
        '--insecure-sts-endpoint-for-tests',
        'http://127.0.0.1:4566',
      ],
      { from: 'user' },
    );
  });

  it('keeps the test flag out of the help text', () => {
    const { program } = midctl();
    const help =
      program.commands.find((command) => command.name() === 'auth')?.commands[0]?.helpInformation() ?? '';
    expect(help).toContain('--listen');
    expect(help).not.toContain('insecure-sts-endpoint-for-tests');
  });
});
