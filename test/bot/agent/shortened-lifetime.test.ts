import { describe, expect, it } from 'vitest';
import { describeShortenedLifetime } from '../../../lib/bot/agent/shortened-lifetime.js';

const HOUR = 3_600_000;
const TWENTY_MINUTES = 20 * 60_000;

describe('the warning for a certificate issued for less time than asked', () => {
  it('names the cap as the role wrote it, though the certificate ends on the whole second before', () => {
    // A 30m cap from 11:26:47.638: the service ends the certificate at 11:56:47, 29m59.362s later.
    const warning = describeShortenedLifetime(HOUR, TWENTY_MINUTES, {
      issued_at: '2026-11-22T11:26:47.638Z',
      expires_at: '2026-11-22T11:56:47.000Z',
    });
    expect(warning).toMatch(
      /^the auth service issued the certificate for 30m, shorter than the 1h asked for/,
    );
    expect(warning).toContain('lower certificate_ttl to 30m;');
  });

  it('says nothing of a certificate that lives as long as asked, give or take the whole second', () => {
    expect(
      describeShortenedLifetime(HOUR, TWENTY_MINUTES, {
        issued_at: '2026-11-22T11:26:47.638Z',
        expires_at: '2026-11-22T12:26:47.000Z',
      }),
    ).toBeUndefined();
  });
});
