import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildMidbotProgram } from '../../lib/midbot/program.js';
import { type Cluster, startCluster } from '../bot/agent/agent-fixture.js';
import { fakeMidbotIo } from '../support/fake-midbot-io.js';

/** midbot run with tbot's TELEPORT_BOT_TOKEN in the environment and no token of its own. */

const NOTE =
  'TELEPORT_BOT_TOKEN is set, but midbot reads MID_BOT_TOKEN (it leaves TELEPORT_BOT_TOKEN to tbot): put the token printed by `midctl bots add` in MID_BOT_TOKEN, or pass it with --token';

let cluster: Cluster;
let work: string;

beforeAll(async () => {
  cluster = await startCluster();
  work = mkdtempSync(join(tmpdir(), 'midbot-teleport-token-'));
});

afterAll(async () => {
  await cluster?.dispose();
  rmSync(work, { recursive: true, force: true });
});

/** Runs midbot with `env` as its environment, in `process.env` too, as the entry gives it. */
async function run(argv: string[], env: Record<string, string>) {
  const io = { ...fakeMidbotIo({ clock: cluster.clock, cwd: work }), env };
  const teleportToken = env['TELEPORT_BOT_TOKEN'];
  if (teleportToken !== undefined) process.env['TELEPORT_BOT_TOKEN'] = teleportToken;
  try {
    const error = await buildMidbotProgram(io)
      .parseAsync(['node', 'midbot', ...argv])
      .then(
        () => undefined,
        (e: unknown) => e as Error,
      );
    return { io, error };
  } finally {
    delete process.env['TELEPORT_BOT_TOKEN'];
  }
}

async function failure(argv: string[], env: Record<string, string>): Promise<string> {
  const { error } = await run(argv, env);
  return error?.message ?? expect.unreachable('expected midbot to fail');
}

const clusterFlags = () => [`--ca-pin=${cluster.server.caPin}`, `--auth-server=${cluster.url}`];

describe('TELEPORT_BOT_TOKEN without a midbot token', () => {
  it('is named when a join needs a token, and is not spent as one', async () => {
    // A token the cluster would accept: midbot must still not join with it.
    const env = { TELEPORT_BOT_TOKEN: await cluster.addBot('teleport-env', ['ops']) };
    const dataDir = join(work, 'data');
    const argv = ['start', '--oneshot', `--data-dir=${dataDir}`, `--destination-dir=${join(work, 'out')}`];
    const message = await failure([...argv, ...clusterFlags()], env);
    expect(message).toMatch(/so midbot must join the cluster, and joining needs a join token\. /);
    expect(message.endsWith(`or onboarding.token. ${NOTE}`)).toBe(true);
    expect(message).not.toContain(env.TELEPORT_BOT_TOKEN);
    expect(existsSync(join(work, 'out', 'identity'))).toBe(false);

    const json = await run([...argv, ...clusterFlags(), '--log-format=json'], env);
    expect(JSON.parse(json.io.logs.at(-1) ?? '{}')).toMatchObject({
      level: 'error',
      code: 'join_token_required',
      message: expect.stringContaining(NOTE),
    });
    // Still unused: given as midbot's own token, it joins.
    const joined = await run([...argv, ...clusterFlags(), `--token=${env.TELEPORT_BOT_TOKEN}`], {});
    expect(joined.error).toBeUndefined();
    expect(existsSync(join(work, 'out', 'identity'))).toBe(true);
  });

  it('is named when the flags lack --token', async () => {
    const message = await failure(['start', '--oneshot', '--destination-dir=out', ...clusterFlags()], {
      TELEPORT_BOT_TOKEN: 'teleport-token',
    });
    expect(message).toMatch(/^--token is required without --data-dir .*\. TELEPORT_BOT_TOKEN is set/);
    expect(message.endsWith(NOTE)).toBe(true);
  });

  it('is named when a config file lacks onboarding.token, for start and configure', async () => {
    const file = join(work, 'memory.yaml');
    writeFileSync(
      file,
      `version: v2\nauth_server: "${cluster.url}"\nonboarding:\n  join_method: token\n  ca_pins: ["${cluster.server.caPin}"]\nstorage: {type: memory}\n`,
    );
    const env = { TELEPORT_BOT_TOKEN: 'teleport-token' };
    for (const command of ['start', 'configure']) {
      const message = await failure([command, '-c', file], env);
      expect(message).toMatch(
        /onboarding\.token \(or --token\): got nothing, required with storage type memory/,
      );
      expect(message.endsWith(NOTE)).toBe(true);
    }
    const iam = await failure(
      ['configure', '--join-method=iam', '--destination-dir=o', ...clusterFlags()],
      env,
    );
    expect(iam).toBe(
      `--token is required with --join-method iam: give the name of the iam join token. ${NOTE}`,
    );
  });

  it('says nothing of it for another failure, nor when it is not set', async () => {
    const env = { TELEPORT_BOT_TOKEN: 'teleport-token' };
    const badPin = await failure(['configure', '--token=t', '--destination-dir=o', '--ca-pin=x'], env);
    expect(badPin).not.toContain('TELEPORT_BOT_TOKEN');
    const unset = await failure(['configure', '--destination-dir=o', ...clusterFlags()], {});
    expect(unset).toMatch(/^--token is required without --data-dir/);
    expect(unset).not.toContain('TELEPORT_BOT_TOKEN');
  });
});
