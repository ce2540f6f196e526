import { existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigError } from '../../core/errors.js';
import { type ReadProblem, readProblemOf, readSmallFile } from '../../core/read-small-file.js';
import type { OnboardingConfig } from './onboarding-config.js';

/** A join token is a few dozen characters; a file much larger is not a token file. */
const MAX_TOKEN_FILE_BYTES = 4_096;

/**
 * `--token` and `onboarding.token` hold the join token itself or, as with tbot, an absolute path to a
 * file holding it (a systemd credential, a mounted secret), so that the token stays out of the command
 * line and the config file. A token never starts with `/` (token names cannot hold one), so a value
 * that does is a path. The file's text is used without the whitespace around it.
 *
 * Errors name the path and what to do, never what the file holds: it is a secret.
 *
 * A value holding a `/` but not starting with one is neither: no token holds a `/`, and a relative path
 * would mean one file from a shell and another from a service manager's working directory. It is
 * refused with the absolute path to give instead; the value itself is echoed only when it names a file
 * (it might otherwise be a secret pasted in the wrong place).
 *
 * @param name how the user gave the value, e.g. `--token` or `/etc/midbot.yaml: onboarding.token`
 * @throws ConfigError `unreadable_token_file` or `invalid_token_file`
 */
export function resolveTokenFile(
  onboarding: OnboardingConfig,
  name: string,
  readFile: (file: string) => string = (file) => readSmallFile(file, MAX_TOKEN_FILE_BYTES),
  cwd: string = process.cwd(),
): OnboardingConfig {
  const file = onboarding.token;
  if (file === undefined) return onboarding;
  checkTokenShape(onboarding, name, cwd);
  if (!path.posix.isAbsolute(file)) return onboarding;
  let text: string;
  try {
    text = readFile(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const advice: Record<ReadProblem, string> = {
      missing:
        'no such file; a value starting with / is read as the path of a file holding the join token: write the token printed by `midctl bots add` there, or fix the path',
      folder: 'is a folder, not a file; give the file holding the join token',
      not_regular:
        'is not a regular file (a device, a FIFO or a socket); give the file holding the join token',
      too_large: `is larger than any join token (over ${MAX_TOKEN_FILE_BYTES} bytes); give the file holding only the token`,
      other: `cannot read it (${code ?? 'unknown error'}); run midbot as a user that may read it`,
    };
    throw new ConfigError('unreadable_token_file', `${name} ${file}: ${advice[readProblemOf(error)]}`, {
      cause: error,
    });
  }
  const token = text.trim();
  if (token === '') {
    throw new ConfigError(
      'invalid_token_file',
      `${name} ${file}: the file is empty; write the join token printed by \`midctl bots add\` in it`,
    );
  }
  if (/\s/.test(token)) {
    throw new ConfigError(
      'invalid_token_file',
      `${name} ${file}: the file holds more than the join token (it has spaces or several lines); write only the token printed by \`midctl bots add\` in it`,
    );
  }
  return { ...onboarding, token };
}

/**
 * What can be told of `onboarding.token` without reading a file: a value holding a `/` must be an
 * absolute path (see `resolveTokenFile`). `midbot configure` checks this much, as it reads no token file.
 */
export function checkTokenShape(
  onboarding: OnboardingConfig,
  name: string,
  cwd: string = process.cwd(),
): void {
  const value = onboarding.token;
  if (value !== undefined && !path.posix.isAbsolute(value) && value.includes('/')) {
    throw relativePathRefusal(value, name, cwd);
  }
}

function relativePathRefusal(value: string, name: string, cwd: string): ConfigError {
  const absolute = path.resolve(cwd, value);
  if (existsSync(absolute)) {
    return new ConfigError(
      'invalid_token_file',
      `${name} ${value}: a file holding the join token is read only from an absolute path (no join token holds a /); give ${absolute}`,
    );
  }
  return new ConfigError(
    'invalid_token_file',
    `${name} holds a / but does not start with one: no join token holds a /, and a file holding the token is read only from an absolute path; give the absolute path of that file, e.g. /etc/midbot/token`,
  );
}
