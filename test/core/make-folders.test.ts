import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeFolders, makeFoldersSync } from '../../lib/core/make-folders.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mid-folders-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const codeOf = async (action: () => unknown): Promise<unknown> => {
  try {
    await action();
  } catch (error) {
    return (error as NodeJS.ErrnoException).code;
  }
  return 'no error';
};

describe.each([
  ['makeFolders', (target: string, mode: number) => makeFolders(target, mode)],
  ['makeFoldersSync', (target: string, mode: number) => makeFoldersSync(target, mode)],
])('%s', (_name, make) => {
  it('creates every missing folder with the mode, and accepts one that exists', async () => {
    await make(join(dir, 'a', 'b', 'c'), 0o700);
    for (const folder of ['a', 'a/b', 'a/b/c']) {
      expect(statSync(join(dir, folder)).mode & 0o777).toBe(0o700);
    }
    expect(await codeOf(() => make(join(dir, 'a', 'b'), 0o700))).toBe('no error');
  });

  it('fails as mkdir -p does where a file is in the way', async () => {
    writeFileSync(join(dir, 'file'), '');
    expect(await codeOf(() => make(join(dir, 'file'), 0o700))).toBe('EEXIST');
    expect(await codeOf(() => make(join(dir, 'file', 'below'), 0o700))).toBe('ENOTDIR');
  });

  // Node's own recursive mkdir never returns here (it retries the parent, which exists, for ever).
  it.runIf(existsSync('/proc/self'))('fails at once under /proc, where mkdir answers ENOENT', async () => {
    expect(await codeOf(() => make('/proc/no-such-folder/below', 0o700))).toBe('ENOENT');
  });
});

describe('makeFolders with a filesystem of its own', () => {
  it('reports the error of the plain mkdir that failed (a read-only mount)', async () => {
    const made: string[] = [];
    const fs = {
      stat: async (target: string) => {
        if (target === dir) return { isDirectory: () => true };
        throw Object.assign(new Error('missing'), { code: 'ENOENT' });
      },
      mkdir: async (target: string, options: { recursive: boolean }) => {
        made.push(`${target} recursive=${options.recursive}`);
        throw Object.assign(new Error('read-only'), { code: 'EROFS' });
      },
    };
    expect(await codeOf(() => makeFolders(join(dir, 'a', 'b'), 0o700, fs))).toBe('EROFS');
    expect(made).toEqual([`${join(dir, 'a')} recursive=false`]);
  });
});
