import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../lib/core/errors.js';
import { readSmallFile } from '../../lib/core/read-small-file.js';
import { readConfigFile } from '../../lib/midbot/start-config.js';

// What bin/midbot.ts reads `-c FILE` with.
const readConfig = (file: string) => readSmallFile(file, 1_048_576);
const dir = mkdtempSync(join(tmpdir(), 'midbot-start-config-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function refusal(file: string): ConfigError {
  try {
    readConfigFile(file, dir, readConfig);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('readConfigFile', () => {
  it('reads a config file, relative to the working directory', () => {
    writeFileSync(join(dir, 'midbot.yaml'), 'version: v2\n');
    expect(readConfigFile('midbot.yaml', dir, readConfig)).toBe('version: v2\n');
  });

  it('refuses a device or a pipe, saying to write the config to a file', () => {
    expect(refusal('/dev/zero').message).toBe(
      '-c /dev/zero: is not a regular file (a device, a FIFO or a socket; midbot does not read a pipe such as -c <(envsubst ...) or /dev/stdin); write the config to a file and give that, e.g. -c /etc/midbot.yaml',
    );
  });

  it('refuses -c - (stdin), saying to write the config to a file, not that - is missing', () => {
    expect(refusal('-').message).toBe(
      '-c -: midbot does not read its config from stdin, as it reads no pipe; write the config to a file and give that, e.g. -c /etc/midbot.yaml',
    );
  });

  it('refuses a file larger than any config', () => {
    writeFileSync(join(dir, 'huge.yaml'), `# ${'x'.repeat(1_048_576)}\n`);
    expect(refusal('huge.yaml').message).toContain('is larger than any config (over 1 MiB)');
  });

  it('says a path through a file is no such file', () => {
    writeFileSync(join(dir, 'plain'), 'x');
    expect(refusal('plain/midbot.yaml').message).toContain('no such file');
  });
});
