import { Sha256 } from '@aws-crypto/sha256-js';
import { HttpRequest } from '@smithy/protocol-http';
import { SignatureV4 } from '@smithy/signature-v4';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { SignedStsRequest } from '../../api/join.js';
import { type Clock, systemClock } from '../../core/clock.js';
import { ConfigError, UpstreamError } from '../../core/errors.js';
import { stsEndpointFor } from './sts-endpoint.js';

/** The only request the agent signs. */
export const GET_CALLER_IDENTITY_BODY = 'Action=GetCallerIdentity&Version=2011-06-15';
const CONTENT_TYPE = 'application/x-www-form-urlencoded; charset=utf-8';
/** What the auth service issues (32 random bytes, base64url); anything else is not put in a header. */
const CHALLENGE = /^[A-Za-z0-9_-]{43,128}$/;
const CLUSTER_NAME = /^[\x21-\x7e]{1,253}$/;

/** AWS credentials: fixed ones (tests) or a provider such as the SDK's default chain. */
export type AwsCredentials = AwsCredentialIdentity | AwsCredentialIdentityProvider;

export interface SignGetCallerIdentityOptions {
  /** `AWS_REGION` / `AWS_DEFAULT_REGION`; a clear ConfigError when undefined. */
  readonly region: string | undefined;
  /** From `POST /v1/join/challenge`. */
  readonly challenge: string;
  /** The cluster the agent joins, from its CA-pinned ping or its config (the audience). */
  readonly clusterName: string;
  /** @default the SDK's default credential chain (env, SSO, web identity, ECS, EC2 metadata...) */
  readonly credentials?: AwsCredentials;
  /** Signing time. @default the system clock */
  readonly clock?: Clock;
  /** Sign for the FIPS endpoint of the region. @default false */
  readonly fips?: boolean;
}

/** The SDK's default chain, loaded only when no credentials are given (tests never load it). */
export async function defaultAwsCredentials(): Promise<AwsCredentialIdentityProvider> {
  const { defaultProvider } = await import('@aws-sdk/credential-provider-node');
  return defaultProvider();
}

/**
 * Signs `sts:GetCallerIdentity` the way the auth service's `iam` join method checks it: `POST /` to the
 * regional STS endpoint, the exact form body, and the challenge and cluster name in headers covered by
 * the SigV4 signature. Returns only the signed request's parts; the secret key never leaves the agent
 * (the session token does: STS needs it with the request, and the auth service passes it on unlogged).
 *
 * @example
 * const signed = await signGetCallerIdentity({
 *   region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION,
 *   challenge: (await client.challenge()).challenge,
 *   clusterName: ping.cluster_name,
 * });
 */
export async function signGetCallerIdentity(
  options: SignGetCallerIdentityOptions,
): Promise<SignedStsRequest> {
  const endpoint = stsEndpointFor(options.region, { fips: options.fips === true });
  if (!CHALLENGE.test(options.challenge)) {
    throw new UpstreamError('bad_challenge', 'the auth service sent a challenge that is not base64url text');
  }
  if (!CLUSTER_NAME.test(options.clusterName)) {
    throw new ConfigError('invalid_cluster_name', 'the cluster name to sign for must be printable ASCII');
  }
  const credentials = options.credentials ?? (await defaultAwsCredentials());
  const signer = new SignatureV4({
    service: 'sts',
    region: endpoint.signingRegion,
    credentials,
    sha256: Sha256,
  });
  const unsigned = new HttpRequest({
    method: 'POST',
    protocol: 'https:',
    hostname: endpoint.host,
    path: '/',
    headers: {
      host: endpoint.host,
      'content-type': CONTENT_TYPE,
      'x-mid-challenge': options.challenge,
      'x-mid-cluster-name': options.clusterName,
    },
    body: GET_CALLER_IDENTITY_BODY,
  });
  let signed: HttpRequest;
  try {
    signed = (await signer.sign(unsigned, {
      signingDate: new Date((options.clock ?? systemClock).now()),
    })) as HttpRequest;
  } catch (error) {
    throw new ConfigError(
      'aws_credentials_unavailable',
      `no AWS credentials to sign the iam join with (${error instanceof Error ? error.message : String(error)}); run the bot with an IAM role (Lambda, ECS task role, EC2 instance profile) or AWS credentials in the environment`,
      { cause: error },
    );
  }
  return {
    method: 'POST',
    url: endpoint.url,
    headers: Object.entries(signed.headers).map(
      ([name, value]) => [name.toLowerCase(), value] as [string, string],
    ),
    body: GET_CALLER_IDENTITY_BODY,
  };
}
