import { AWS_REGION_NAME } from '../../core/aws-region.js';
import { ConfigError } from '../../core/errors.js';

/** Where the agent signs GetCallerIdentity for: the regional STS endpoint of its own region. */
export interface StsEndpointChoice {
  readonly host: string;
  readonly url: string;
  /** The SigV4 scope region; always the endpoint's region, which is what the auth service checks. */
  readonly signingRegion: string;
}

/** GovCloud STS hosts are FIPS validated under their plain names. */
const FIPS_REGIONS = new Set(['us-east-1', 'us-east-2', 'us-west-1', 'us-west-2']);

/**
 * The regional STS endpoint for `region` (China regions under `.amazonaws.com.cn`), or its FIPS
 * variant. The region comes from `AWS_REGION` / `AWS_DEFAULT_REGION`, which Lambda, ECS and CodeBuild
 * set; the caller reads the environment and passes it in.
 */
export function stsEndpointFor(
  region: string | undefined,
  options: { fips?: boolean } = {},
): StsEndpointChoice {
  if (region === undefined || region === '') {
    throw new ConfigError(
      'aws_region_missing',
      'the iam join method needs the AWS region to sign for its regional STS endpoint; set AWS_REGION (or AWS_DEFAULT_REGION), e.g. AWS_REGION=eu-west-1',
    );
  }
  if (!AWS_REGION_NAME.test(region)) {
    throw new ConfigError(
      'aws_region_invalid',
      `the AWS region ${JSON.stringify(region.slice(0, 40))} is not a region name like eu-west-1; check AWS_REGION`,
    );
  }
  let host: string;
  if (region.startsWith('cn-')) {
    if (options.fips === true) {
      throw new ConfigError('fips_unavailable', `STS has no FIPS endpoint in ${region}`);
    }
    host = `sts.${region}.amazonaws.com.cn`;
  } else if (options.fips === true && !region.startsWith('us-gov-')) {
    if (!FIPS_REGIONS.has(region)) {
      throw new ConfigError(
        'fips_unavailable',
        `STS has no FIPS endpoint in ${region}; FIPS endpoints exist in us-east-1, us-east-2, us-west-1, us-west-2 and GovCloud`,
      );
    }
    host = `sts-fips.${region}.amazonaws.com`;
  } else {
    host = `sts.${region}.amazonaws.com`;
  }
  return { host, url: `https://${host}/`, signingRegion: region };
}
