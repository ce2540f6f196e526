import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OnboardingConfig } from '../../../lib/bot/config/onboarding-config.js';
import { resolveTokenFile } from '../../../lib/bot/config/resolve-token-file.js';
import { ConfigError } from '../../../lib/core/errors.js';

const SECRET = 'tok-SECRET-4f9a1c';
const PIN = `sha256:${'1'.repeat(64)}`;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'midbot-token-file-'));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const onboarding = (token: string | undefined): OnboardingConfig => ({
  join_method: 'token',
  ...(token === undefined ? {} : { token }),
  ca_pins: [PIN],
  public_tls: false,
});

const read = (file: string) => readFileSync(file, 'utf8');

function refusal(token: string, name = '--token'): ConfigError {
  try {
    resolveTokenFile(onboarding(token), name, read);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).not.toContain('tok-SECRET');
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('resolveTokenFile', () => {
  it('reads the token from an absolute path, without the newline around it', () => {
    const file = join(dir, 'token');
    writeFileSync(file, `  ${SECRET}\n`);
    expect(resolveTokenFile(onboarding(file), '--token', read).token).toBe(SECRET);
  });

  it('reads the name of an iam token the same way', () => {
    const file = join(dir, 'iam-token');
    writeFileSync(file, 'robot-iam\n');
    const iam: OnboardingConfig = { join_method: 'iam', token: file, ca_pins: [PIN], public_tls: false };
    expect(resolveTokenFile(iam, '--token', read)).toEqual({ ...iam, token: 'robot-iam' });
  });

  it('takes any other value as the token itself, and reads nothing', () => {
    const reads: string[] = [];
    const spy = (file: string) => {
      reads.push(file);
      return '';
    };
    expect(resolveTokenFile(onboarding(SECRET), '--token', spy).token).toBe(SECRET);
    expect(resolveTokenFile(onboarding('token-file'), '--token', spy).token).toBe('token-file');
    expect(resolveTokenFile(onboarding(undefined), '--token', spy).token).toBeUndefined();
    expect(reads).toEqual([]);
  });

  it('refuses a relative path, giving the absolute one when the file is there', () => {
    writeFileSync(join(dir, 'relative-token'), `${SECRET}\n`);
    const relativeRefusal = (value: string) => {
      try {
        resolveTokenFile(onboarding(value), '--token', read, dir);
      } catch (error) {
        return error as ConfigError;
      }
      throw new Error('expected a ConfigError');
    };

    expect(relativeRefusal('./relative-token')).toMatchObject({
      code: 'invalid_token_file',
      message: `--token ./relative-token: a file holding the join token is read only from an absolute path (no join token holds a /); give ${join(dir, 'relative-token')}`,
    });
    // No such file: perhaps a secret pasted in the wrong place, so the value is not shown.
    const secretLike = relativeRefusal('tok/SECRET+4f9a1c');
    expect(secretLike.message).toBe(
      '--token holds a / but does not start with one: no join token holds a /, and a file holding the token is read only from an absolute path; give the absolute path of that file, e.g. /etc/midbot/token',
    );
  });

  it('names the flag or key, the path and the fix when the file is missing', () => {
    const file = join(dir, 'missing');
    expect(refusal(file, '/etc/midbot.yaml: onboarding.token').message).toBe(
      `/etc/midbot.yaml: onboarding.token ${file}: no such file; a value starting with / is read as the path of a file holding the join token: write the token printed by \`midctl bots add\` there, or fix the path`,
    );
  });

  it('says a folder is not the token file', () => {
    const folder = join(dir, 'a-folder');
    mkdirSync(folder);
    expect(refusal(folder).message).toBe(
      `--token ${folder}: is a folder, not a file; give the file holding the join token`,
    );
  });

  it('says the file cannot be read, and how to fix that', () => {
    // Injected: as root, no file mode makes reading fail.
    const denied = (file: string): string => {
      throw Object.assign(new Error(`EACCES: permission denied, open '${file}'`), { code: 'EACCES' });
    };
    expect(() => resolveTokenFile(onboarding('/run/credentials/midbot/token'), '--token', denied)).toThrow(
      '--token /run/credentials/midbot/token: cannot read it (EACCES); run midbot as a user that may read it',
    );
  });

  it('refuses an empty file', () => {
    const file = join(dir, 'empty');
    writeFileSync(file, ' \n\n');
    expect(refusal(file).message).toBe(
      `--token ${file}: the file is empty; write the join token printed by \`midctl bots add\` in it`,
    );
  });

  it('refuses a file that holds more than a token, without showing what it holds', () => {
    const file = join(dir, 'two-lines');
    writeFileSync(file, `${SECRET}\nsecond line\n`);
    expect(refusal(file).message).toBe(
      `--token ${file}: the file holds more than the join token (it has spaces or several lines); write only the token printed by \`midctl bots add\` in it`,
    );
  });

  describe('read with the default reader, which trusts no path', () => {
    function defaultRefusal(file: string): ConfigError {
      try {
        resolveTokenFile(onboarding(file), '--token');
      } catch (error) {
        expect(error).toBeInstanceOf(ConfigError);
        return error as ConfigError;
      }
      throw new Error('expected a ConfigError');
    }

    it('reads a token file', () => {
      const file = join(dir, 'default-reader-token');
      writeFileSync(file, `${SECRET}\n`);
      expect(resolveTokenFile(onboarding(file), '--token').token).toBe(SECRET);
    });

    it('refuses a device that never ends instead of filling the memory', () => {
      expect(defaultRefusal('/dev/zero').message).toBe(
        '--token /dev/zero: is not a regular file (a device, a FIFO or a socket); give the file holding the join token',
      );
    });

    it('refuses a FIFO instead of waiting on it', () => {
      const fifo = join(dir, 'token-fifo');
      execFileSync('mkfifo', [fifo]);
      expect(defaultRefusal(fifo).code).toBe('unreadable_token_file');
    });

    it('refuses a socket as a file that is not regular', async () => {
      const socketPath = join(dir, 'token.sock');
      const server = createServer().listen(socketPath);
      await new Promise((resolve) => server.once('listening', resolve));
      try {
        expect(defaultRefusal(socketPath).message).toContain(
          'is not a regular file (a device, a FIFO or a socket)',
        );
      } finally {
        server.close();
      }
    });

    it('refuses a file larger than any token', () => {
      const big = join(dir, 'big-token');
      writeFileSync(big, 'x'.repeat(5_000));
      expect(defaultRefusal(big).message).toContain('is larger than any join token (over 4096 bytes)');
    });
  });
});
