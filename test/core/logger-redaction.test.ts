import { describe, expect, it } from 'vitest';
import { createLogger, redactFields } from '../../lib/core/logger.js';

const KEY = '-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIKEY\n-----END PRIVATE KEY-----';

describe('redactFields', () => {
  it.each([
    'token',
    'join_token',
    'token_value',
    'private_key',
    'privateKey',
    'secret_access_key',
    'password',
    'signature',
    'authorization',
    'session_token',
    'credentials',
  ])('hides the value of %s', (key) => {
    expect(redactFields({ [key]: 'value-to-hide' })).toEqual({ [key]: '[redacted]' });
  });

  it.each(['token_name', 'token_fingerprint', 'join_token_name', 'bot', 'serial'])(
    'keeps %s, which names or identifies without being secret',
    (key) => {
      expect(redactFields({ [key]: 'shown' })).toEqual({ [key]: 'shown' });
    },
  );

  it('cuts private keys out of any text value and error message', () => {
    const fields = redactFields({ detail: `before ${KEY} after`, error: new Error(`oops ${KEY}`) });
    expect(fields).toEqual({
      detail: 'before [redacted private key] after',
      error: 'oops [redacted private key]',
    });
  });

  it('is what the logger writes', () => {
    const lines: string[] = [];
    createLogger({ format: 'json', write: (line) => lines.push(line) }).info('joined', { join_token: 'abc' });
    expect(lines.join('')).not.toContain('abc');
    expect(JSON.parse(lines[0] ?? '{}')).toMatchObject({ join_token: '[redacted]' });
  });
});
