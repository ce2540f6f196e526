import { describe, expect, it } from 'vitest';
import { botFacingAddress } from '../../lib/midctl/bot-facing-address.js';

describe('the auth service address bots add gives a bot', () => {
  it.each([
    [
      'the first --public-addr',
      'https://127.0.0.1:3061',
      { listenHost: '0.0.0.0', publicAddrs: ['mid.example.test', '192.0.2.2'] },
      'https://mid.example.test:3061',
    ],
    [
      'an IPv6 --public-addr, in brackets',
      'https://127.0.0.1:3061',
      { listenHost: '::', publicAddrs: ['2001:db8::2'] },
      'https://[2001:db8::2]:3061',
    ],
    [
      'a --public-addr also on a service listening on loopback',
      'https://[::1]:3025',
      { listenHost: '::1', publicAddrs: ['mid.example.test'] },
      'https://mid.example.test:3025',
    ],
    [
      '--auth-server as given when it is no loopback address',
      'https://mid.internal:3061',
      { listenHost: '0.0.0.0', publicAddrs: ['192.0.2.2'] },
      'https://mid.internal:3061',
    ],
    [
      'the address midctl uses when nothing was recorded (--aws-iam, an older auth-server.json)',
      'https://127.0.0.1:3025',
      undefined,
      'https://127.0.0.1:3025',
    ],
    [
      'the listen address when it is one host address',
      'https://192.0.2.2:3025',
      { listenHost: '192.0.2.2', publicAddrs: [] },
      'https://192.0.2.2:3025',
    ],
  ])('is %s', (_what, adminUrl, served, expected) => {
    expect(botFacingAddress(adminUrl, served)).toEqual({ url: expected });
  });

  it('comes with a note when it listens on all interfaces and has no --public-addr', () => {
    for (const listenHost of ['0.0.0.0', '::']) {
      const address = botFacingAddress('https://127.0.0.1:3061', { listenHost, publicAddrs: [] });
      expect(address.url).toBe('https://127.0.0.1:3061');
      expect(address.note).toContain('works only on this host');
      expect(address.note).toContain('--public-addr');
    }
  });
});
