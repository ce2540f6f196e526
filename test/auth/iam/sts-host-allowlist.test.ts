import { describe, expect, it } from 'vitest';
import { allowedStsHost, STS_HOST_ALLOWLIST } from '../../../lib/auth/iam/sts-host-allowlist.js';
import { stsEndpointFor } from '../../../lib/bot/iam/sts-endpoint.js';

describe('the STS host allowlist', () => {
  it('accepts every endpoint the agent signs for, with the region the agent signs with', () => {
    for (const endpoint of STS_HOST_ALLOWLIST.values()) {
      if (endpoint.host === 'sts.amazonaws.com') continue;
      const fips = endpoint.host.startsWith('sts-fips.');
      const agent = stsEndpointFor(endpoint.region, { fips });
      const verdict = allowedStsHost(agent.host);
      expect(verdict).toMatchObject({
        ok: true,
        endpoint: { host: endpoint.host, region: agent.signingRegion },
      });
    }
  });

  it.each([
    ['sts.amazonaws.com', 'us-east-1', 'aws', false],
    ['sts.eu-west-1.amazonaws.com', 'eu-west-1', 'aws', false],
    ['sts-fips.us-west-2.amazonaws.com', 'us-west-2', 'aws', true],
    ['sts.cn-north-1.amazonaws.com.cn', 'cn-north-1', 'aws-cn', false],
    ['sts.cn-northwest-1.amazonaws.com.cn', 'cn-northwest-1', 'aws-cn', false],
    ['sts.us-gov-west-1.amazonaws.com', 'us-gov-west-1', 'aws-us-gov', true],
    ['sts.us-gov-east-1.amazonaws.com', 'us-gov-east-1', 'aws-us-gov', true],
  ])('knows %s: region %s, partition %s, FIPS %s', (host, region, partition, fips) => {
    expect(allowedStsHost(host)).toEqual({ ok: true, endpoint: { host, region, partition, fips } });
  });

  it('refuses hosts that only resemble allowed ones', () => {
    for (const host of [
      'sts.us-east-1.amazonaws.com.evil.com',
      'xsts.us-east-1.amazonaws.com',
      'sts.us-east-1.amazonaws.co',
      'sts..amazonaws.com',
      'sts.us-east-1.amazonaws.com%2eevil.com',
      'sts.us-east-1.amazonaws.com\u0000',
      'sts.us-east-1.amazonaws.com ',
      'ѕts.us-east-1.amazonaws.com',
      '',
    ]) {
      expect(allowedStsHost(host).ok, host).toBe(false);
    }
  });
});
