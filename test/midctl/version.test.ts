import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { runMidctl } from '../support/cli.js';

const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

describe('midctl version', () => {
  it('prints the version of the package and of Node.js, with no data directory or service', async () => {
    const result = await runMidctl(['version']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toBe(`midctl v${version} node ${process.version}\n`);
  });

  it.each([['--version'], ['-v']])('%s prints the version alone', async (flag) => {
    expect(await runMidctl([flag])).toMatchObject({ code: 0, stdout: `${version}\n`, stderr: '' });
  });
});
