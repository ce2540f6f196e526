import { describe, expect, it } from 'vitest';
import { unreachableMessage } from '../../../lib/bot/auth-client/unreachable-message.js';

const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
const notFound = Object.assign(new Error('getaddrinfo ENOTFOUND'), { code: 'ENOTFOUND' });

describe('unreachableMessage', () => {
  it.each([
    ['https://127.0.0.1', '127.0.0.1:3025'],
    ['https://[::1]', '[::1]:3025'],
    ['https://auth.example.com', 'auth.example.com:3025'],
  ])(
    'says an address without a port (%s) went to 443, and that midctl auth start listens on 3025',
    (address, fix) => {
      expect(unreachableMessage(address, refused)).toBe(
        `cannot reach the auth service at ${address}: ECONNREFUSED; the address names no port, so midbot connected to 443, the https default, and nothing listens there. \`midctl auth start\` listens on 3025 unless --listen says otherwise: write the port, e.g. ${fix}`,
      );
    },
  );

  it.each([
    ['a port written, 443 included', 'https://127.0.0.1:443', refused, 'ECONNREFUSED'],
    ['another port', 'https://127.0.0.1:3999', refused, 'ECONNREFUSED'],
    ['a name that does not resolve', 'https://auth.example.com', notFound, 'ENOTFOUND'],
  ])('gives the plain advice for %s', (_name, address, error, code) => {
    expect(unreachableMessage(address, error)).toBe(
      `cannot reach the auth service at ${address}: ${code}; check that it is running and the address is right`,
    );
  });
});
