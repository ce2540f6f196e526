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

  it('offers a lower certificate_ttl only where midbot takes it: longer than renewal_interval, itself 1m or more', () => {
    const cappedAt = (cap: string) =>
      describeShortenedLifetime(HOUR, TWENTY_MINUTES, {
        issued_at: '2026-11-22T11:26:47.000Z',
        expires_at: new Date(
          Date.parse('2026-11-22T11:26:47.000Z') + Number.parseInt(cap, 10) * 60_000,
        ).toISOString(),
      });

    expect(cappedAt('10m')).toContain(
      "raise the roles' max_session_ttl or lower certificate_ttl to 10m and renewal_interval below it; a daemon renews it halfway",
    );
    const oneMinute = cappedAt('1m');
    expect(oneMinute).toContain(
      "raise the roles' max_session_ttl; midbot renews at most every 1m, so it expires before it is replaced",
    );
    expect(oneMinute).not.toContain('lower certificate_ttl');
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
