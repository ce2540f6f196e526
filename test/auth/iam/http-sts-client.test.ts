import { describe, expect, it } from 'vitest';
import { HttpStsClient, parseStsEndpointOverride } from '../../../lib/auth/iam/http-sts-client.js';
import { iamJoinMethod } from '../../../lib/auth/iam/iam-join-method.js';
import { ConfigError } from '../../../lib/core/errors.js';

describe('the STS endpoint override for tests', () => {
  it.each([
    'http://127.0.0.1:4566',
    'http://127.9.9.9:1',
    'http://localhost:8080',
    'http://[::1]:9000',
    'https://127.0.0.1:443/',
  ])('accepts the loopback URL %s', (url) => {
    expect(() => new HttpStsClient({ stsEndpointOverrideForTests: url })).not.toThrow();
  });

  it.each([
    ['a public host', 'https://sts.example.com'],
    ['a private address', 'http://10.0.0.1:80'],
    ['the metadata address', 'http://169.254.169.254'],
    ['an unspecified address', 'http://0.0.0.0:4566'],
    ['a name that merely starts with localhost', 'http://localhost.evil.example:80'],
    ['a path', 'http://127.0.0.1:4566/sts'],
    ['user information', 'http://user@127.0.0.1:4566'],
    ['another scheme', 'ftp://127.0.0.1'],
    ['not a URL', '127.0.0.1:4566'],
  ])('refuses %s', (_what, url) => {
    expect(() => parseStsEndpointOverride(url)).toThrow(ConfigError);
    expect(() => iamJoinMethod({ stsEndpointOverrideForTests: url })).toThrow(
      /invalid_sts_endpoint_override|loopback|bare|not a URL/,
    );
  });
});
