import { execFileSync } from 'node:child_process';
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statfsSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { agentConfig, type Cluster, newAgent, startCluster } from '../bot/agent/agent-fixture.js';

/**
 * A full disk under a directory destination, for real: a 256 KiB tmpfs that the agent writes its
 * identity output into, then filled up. The run reports the output as failed, and the artifacts of the
 * last good run are left byte for byte, with no temporary file behind. Mounting needs privileges
 * (root or CAP_SYS_ADMIN); without them this file is skipped and the injected-ENOSPC test in
 * test/bot/destinations/directory-destination.test.ts covers the same path.
 */
const root = mkdtempSync(join(tmpdir(), 'mid-security-full-'));
const mountPoint = join(root, 'tmpfs');
mkdirSync(mountPoint);
let mounted = false;
try {
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0700', 'tmpfs', mountPoint], {
    stdio: 'ignore',
  });
  mounted = true;
} catch {
  rmSync(root, { recursive: true, force: true });
}

function snapshot(dir: string): Record<string, string> {
  return Object.fromEntries(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name), 'base64')]));
}

describe.skipIf(!mounted)('a directory destination on a full filesystem', () => {
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await startCluster();
  });

  afterAll(async () => {
    await cluster?.dispose();
    if (mounted) execFileSync('umount', [mountPoint]);
    rmSync(root, { recursive: true, force: true });
  });

  it('fails the output with destination_full and keeps the previous artifacts intact', async () => {
    const out = join(mountPoint, 'machine-id');
    const token = await cluster.addBot('full', ['ops']);
    const agent = newAgent(
      cluster,
      agentConfig(cluster, token, {
        outputs: [{ type: 'identity', destination: { type: 'directory', path: out } }],
      }),
    );
    try {
      const first = await agent.runOnce();
      expect(first.written).toBe(1);
      const before = snapshot(out);
      expect(Object.keys(before)).toContain('key');

      // Leave two pages free: the next run's temporary files cannot all fit.
      const { bavail, bsize } = statfsSync(mountPoint);
      writeFileSync(join(mountPoint, 'filler'), Buffer.alloc(Number(bavail) * Number(bsize) - 2 * 4096));

      cluster.clock.advance(20 * 60_000);
      const second = await agent.runOnce();
      expect(second.failed).toBe(1);
      expect(second.outputs[0]).toMatchObject({ status: 'failed', code: 'destination_full' });
      expect(second.outputs[0]?.status === 'failed' && second.outputs[0].message).toContain(
        'the previous artifacts are unchanged',
      );
      expect(snapshot(out)).toEqual(before);

      // Space again: the next run writes normally.
      rmSync(join(mountPoint, 'filler'));
      cluster.clock.advance(20 * 60_000);
      expect((await agent.runOnce()).written).toBe(1);
      expect(snapshot(out)['tlscert']).not.toBe(before['tlscert']);
      expect(readdirSync(out).sort()).toEqual(Object.keys(before).sort());
    } finally {
      agent.close();
    }
  });
});
