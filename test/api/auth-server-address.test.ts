import { describe, expect, it } from 'vitest';
import { normaliseAuthServer } from '../../lib/api/auth-server-address.js';
import { ConfigError } from '../../lib/core/errors.js';

describe("midctl's --auth-server", () => {
  it('takes host:port or an https URL, and keeps a path as the prefix of the API (a stage, a base path)', () => {
    expect(normaliseAuthServer('127.0.0.1:3025')).toBe('https://127.0.0.1:3025');
    expect(normaliseAuthServer('https://abc.execute-api.eu-west-1.amazonaws.com/')).toBe(
      'https://abc.execute-api.eu-west-1.amazonaws.com',
    );
    expect(normaliseAuthServer('https://id.example.com/machine-id/prod/')).toBe(
      'https://id.example.com/machine-id/prod',
    );
  });

  it("refuses an address holding the API's /v1, with the address to write", () => {
    expect(() => normaliseAuthServer('https://127.0.0.1:3025/v1')).toThrow(
      new ConfigError(
        'invalid_auth_server',
        '--auth-server: got "https://127.0.0.1:3025/v1", expected the address without the API\'s path /v1, which midctl adds itself: write https://127.0.0.1:3025',
      ),
    );
    expect(() => normaliseAuthServer('https://id.example.com/prod/v1/admin/status')).toThrow(
      /write https:\/\/id\.example\.com\/prod$/,
    );
  });

  it('refuses plain http and what is not an address', () => {
    expect(() => normaliseAuthServer('http://127.0.0.1:3025')).toThrow(/must use https/);
    expect(() => normaliseAuthServer('https://')).toThrow(/is not an address/);
  });
});
