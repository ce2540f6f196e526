import { describe, expect, it } from 'vitest';
import { botLogins, updatedBot } from '../../lib/auth/bot-update.js';
import type { Bot } from '../../lib/resources/bot.js';

const bot = (spec: Partial<Bot['spec']> = {}): Bot => ({
  kind: 'bot',
  version: 'v1',
  metadata: { name: 'robot' },
  spec: { roles: ['access'], ...spec },
});

describe('a bot after bots update', () => {
  it('adds roles and logins it does not hold yet, after the ones it holds', () => {
    const next = updatedBot(bot({ traits: [{ name: 'logins', values: ['root'] }] }), {
      add_roles: ['ops', 'access'],
      add_logins: ['ubuntu', 'root'],
    });
    expect(next.spec.roles).toEqual(['access', 'ops']);
    expect(botLogins(next)).toEqual(['root', 'ubuntu']);
  });

  it('replaces the logins with --set-logins, keeping the other traits and their order', () => {
    const next = updatedBot(
      bot({
        traits: [
          { name: 'groups', values: ['dev'] },
          { name: 'logins', values: ['root'] },
          { name: 'team', values: ['payments'] },
        ],
      }),
      { set_logins: ['deploy', 'deploy'] },
    );
    expect(next.spec.traits).toEqual([
      { name: 'groups', values: ['dev'] },
      { name: 'logins', values: ['deploy'] },
      { name: 'team', values: ['payments'] },
    ]);
    expect(next.spec.roles).toEqual(['access']);
  });

  it('gives a bot without logins its logins trait', () => {
    const next = updatedBot(bot({ traits: [{ name: 'groups', values: ['dev'] }] }), {
      add_logins: ['ci'],
    });
    expect(next.spec.traits).toEqual([
      { name: 'groups', values: ['dev'] },
      { name: 'logins', values: ['ci'] },
    ]);
  });

  it('leaves the traits alone when only the roles change', () => {
    const before = bot({ max_session_ttl: '8h' });
    expect(updatedBot(before, { set_roles: ['ops'] })).toEqual({
      ...before,
      spec: { roles: ['ops'], max_session_ttl: '8h' },
    });
  });
});
