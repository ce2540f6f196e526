import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { STORED_IDENTITY_FILE } from '../../lib/bot/agent/stored-identity.js';
import { ConfigError } from '../../lib/core/errors.js';
import { readSmallFile } from '../../lib/core/read-small-file.js';
import { loadStartConfig, readConfigFile } from '../../lib/midbot/start-config.js';

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

describe('loadStartConfig and an unreadable token file', () => {
  const io = { cwd: () => dir, readFile: readConfig };
  const flags = {
    authServer: 'auth.example.com:443',
    caPins: [`sha256:${'ab'.repeat(32)}`],
    token: join(dir, 'no-such-token'),
  };

  it('goes on without the token when the storage holds an identity to renew, saying why', () => {
    mkdirSync(join(dir, 'data'), { recursive: true });
    writeFileSync(join(dir, 'data', STORED_IDENTITY_FILE), '{}');
    const { config, warnings } = loadStartConfig(undefined, { ...flags, dataDir: join(dir, 'data') }, io);
    expect(config.onboarding.token).toBeUndefined();
    expect(warnings).toEqual([
      `--token ${join(dir, 'no-such-token')}: no such file; a value starting with / is read as the path of a file holding the join token: write the token printed by \`midctl bots add\` there, or fix the path; going on without a join token: the identity in ${join(dir, 'data')} is renewed, and a join (if one is needed) fails for want of it`,
    ]);
  });

  it('refuses it when midbot must join: memory storage, or a storage without an identity yet', () => {
    expect(() => loadStartConfig(undefined, flags, io)).toThrow(/^--token \S+no-such-token: no such file/);
    expect(() => loadStartConfig(undefined, { ...flags, dataDir: join(dir, 'empty') }, io)).toThrow(
      /^--token \S+no-such-token: no such file/,
    );
  });

  it('names MID_BOT_TOKEN when the token came from it', () => {
    expect(() => loadStartConfig(undefined, { ...flags, tokenName: 'MID_BOT_TOKEN' }, io)).toThrow(
      /^MID_BOT_TOKEN \S+no-such-token: no such file/,
    );
  });
});
