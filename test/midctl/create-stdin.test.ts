import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runMidctl } from '../support/cli.js';

describe('midctl create -f - (the real process reading its standard input)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'mid-create-stdin-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('reads what is piped in, and checks it before asking for a service', async () => {
    const result = await runMidctl(['--data-dir', dataDir, 'create', '-f', '-'], { input: 'kind: role\n' });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^ERROR: \(stdin\): role: version \(line 1\): got nothing/);
  });

  it('stops reading past the 1 MiB limit instead of taking in everything piped to it', async () => {
    const result = await runMidctl(['--data-dir', dataDir, 'create', '-f', '-'], {
      input: 'a'.repeat(3 * 1024 * 1024),
    });
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      'ERROR: -f -: standard input is over the 1 MiB limit for a YAML file; split it into smaller files\n',
    );
  });
});
