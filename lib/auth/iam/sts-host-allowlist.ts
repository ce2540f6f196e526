import { isIP } from 'node:net';

/** An AWS partition, as it appears in ARNs. */
export type AwsPartition = 'aws' | 'aws-cn' | 'aws-us-gov';

/** One STS endpoint a signed request may name, and what its credential scope must say. */
export interface StsEndpoint {
  /** Canonical host name: lower case, no trailing dot. */
  readonly host: string;
  /** The region of the SigV4 credential scope (`us-east-1` for the global host). */
  readonly region: string;
  readonly partition: AwsPartition;
  /** FIPS 140 validated endpoint (the `sts-fips.*` hosts and the GovCloud hosts). */
  readonly fips: boolean;
}

/**
 * Regions of the `aws` partition the installed AWS SDK knows. A region that is not listed is refused
 * rather than guessed: a new region is one line here, a wrong guess is a request to a host we never meant.
 */
const AWS_REGIONS = [
  'af-south-1',
  'ap-east-1',
  'ap-east-2',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ap-south-1',
  'ap-south-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'ap-southeast-5',
  'ap-southeast-6',
  'ap-southeast-7',
  'ca-central-1',
  'ca-west-1',
  'eu-central-1',
  'eu-central-2',
  'eu-north-1',
  'eu-south-1',
  'eu-south-2',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'il-central-1',
  'me-central-1',
  'me-south-1',
  'me-west-1',
  'mx-central-1',
  'sa-east-1',
  'sa-west-1',
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
] as const;

/** STS has `sts-fips.<region>.amazonaws.com` in these regions only. */
const AWS_FIPS_REGIONS = ['us-east-1', 'us-east-2', 'us-west-1', 'us-west-2'] as const;

/** China regions live under their own DNS suffix and partition. */
const CHINA_REGIONS = ['cn-north-1', 'cn-northwest-1'] as const;

/**
 * GovCloud STS endpoints are FIPS validated under their plain names; AWS's endpoint rules map
 * "FIPS in GovCloud" to these same hosts, so there is no separate `sts-fips.us-gov-*` host to allow.
 */
const GOVCLOUD_REGIONS = ['us-gov-east-1', 'us-gov-west-1'] as const;

function buildAllowlist(): ReadonlyMap<string, StsEndpoint> {
  const endpoints: StsEndpoint[] = [
    // The global endpoint signs with us-east-1, as the SDKs do.
    { host: 'sts.amazonaws.com', region: 'us-east-1', partition: 'aws', fips: false },
    ...AWS_REGIONS.map((region) => ({
      host: `sts.${region}.amazonaws.com`,
      region,
      partition: 'aws' as const,
      fips: false,
    })),
    ...AWS_FIPS_REGIONS.map((region) => ({
      host: `sts-fips.${region}.amazonaws.com`,
      region,
      partition: 'aws' as const,
      fips: true,
    })),
    ...CHINA_REGIONS.map((region) => ({
      host: `sts.${region}.amazonaws.com.cn`,
      region,
      partition: 'aws-cn' as const,
      fips: false,
    })),
    ...GOVCLOUD_REGIONS.map((region) => ({
      host: `sts.${region}.amazonaws.com`,
      region,
      partition: 'aws-us-gov' as const,
      fips: true,
    })),
  ];
  return new Map(endpoints.map((endpoint) => [endpoint.host, endpoint]));
}

/** Every STS host a signed request may name (SECURITY rule 2). Nothing else is ever contacted. */
export const STS_HOST_ALLOWLIST: ReadonlyMap<string, StsEndpoint> = buildAllowlist();

/** Why a host was refused, in words an operator can act on. */
export type StsHostVerdict =
  | { readonly ok: true; readonly endpoint: StsEndpoint }
  | { readonly ok: false; readonly reason: string };

const LINK_LOCAL = /^(169\.254\.|fe80:|\[fe80:)/i;

/**
 * Looks a host (the authority of the URL the client signed, without port) up in the allowlist. The
 * only normalisation is lower-casing and dropping one trailing dot, which DNS treats as the same name;
 * anything else (another suffix, an IP literal, an unknown region) is not on the list and is refused.
 */
export function allowedStsHost(rawHost: string, options: { requireFips?: boolean } = {}): StsHostVerdict {
  const host = rawHost.toLowerCase().replace(/\.$/, '');
  const shown = JSON.stringify(host.length > 80 ? `${host.slice(0, 77)}...` : host);
  const bare = host.replace(/^\[|\]$/g, '');
  if (LINK_LOCAL.test(host) || bare === 'fd00:ec2::254') {
    return {
      ok: false,
      reason: `${shown} is a link-local (instance metadata) address, not an STS endpoint`,
    };
  }
  if (isIP(bare) !== 0) {
    return {
      ok: false,
      reason: `${shown} is an IP address; sign for an STS host name such as sts.us-east-1.amazonaws.com`,
    };
  }
  const endpoint = STS_HOST_ALLOWLIST.get(host);
  if (endpoint === undefined) {
    return {
      ok: false,
      reason: `${shown} is not a known AWS STS endpoint; sign for sts.<region>.amazonaws.com (sts.<region>.amazonaws.com.cn in China) of a known region`,
    };
  }
  if (options.requireFips === true && !endpoint.fips) {
    return {
      ok: false,
      reason: `${shown} is not a FIPS endpoint and this service requires FIPS; sign for sts-fips.<region>.amazonaws.com or a GovCloud region`,
    };
  }
  return { ok: true, endpoint };
}
