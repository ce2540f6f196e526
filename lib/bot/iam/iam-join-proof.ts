import { createHash } from 'node:crypto';
import type { JoinChallengeResponse, SignedStsRequest } from '../../api/join.js';
import type { Clock } from '../../core/clock.js';
import {
  type AwsCredentials,
  defaultAwsCredentials,
  signGetCallerIdentity,
} from './sign-get-caller-identity.js';
import { stsEndpointFor } from './sts-endpoint.js';

/** What an `iam` join adds to `POST /v1/join` (the agent adds `public_key` and `previous_certificate`). */
export interface IamJoinRequestProof {
  readonly join_method: 'iam';
  /** The iam token's name; not a secret, it names the allow rules. */
  readonly token: string;
  readonly iam: SignedStsRequest;
}

/** The one call of the auth service an iam proof needs; `BotApiClient` has it. */
export interface ChallengeSource {
  challenge(): Promise<JoinChallengeResponse>;
}

export interface IamJoinProofOptions {
  /** The `iam` token's name (`onboarding.token`). */
  readonly token: string;
  /** `AWS_REGION` / `AWS_DEFAULT_REGION`, read by the caller; checked at construction. */
  readonly region: string | undefined;
  /** @default the SDK's default credential chain, created once and reused (it caches and refreshes) */
  readonly credentials?: AwsCredentials;
  /** @default the system clock */
  readonly clock?: Clock;
  /** Sign for the region's FIPS STS endpoint. @default false */
  readonly fips?: boolean;
}

/**
 * Builds the proof of an `iam` join: `POST /v1/join/challenge`, then a GetCallerIdentity request
 * signed for that challenge and the cluster's name.
 */
export async function iamJoinProof(
  client: ChallengeSource,
  options: IamJoinProofOptions & { readonly clusterName: string },
): Promise<IamJoinRequestProof> {
  const { challenge } = await client.challenge();
  const iam = await signGetCallerIdentity({
    region: options.region,
    challenge,
    clusterName: options.clusterName,
    ...(options.credentials === undefined ? {} : { credentials: options.credentials }),
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.fips === undefined ? {} : { fips: options.fips }),
  });
  return { join_method: 'iam', token: options.token, iam };
}

/**
 * The agent runtime's provider for `onboarding.join_method: iam` (same shape as its `JoinProofProvider`):
 * construct once per run; `prove` is called for every join.
 *
 * @example
 * const provider = new IamJoinProof({
 *   token: onboarding.token,
 *   region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
 * });
 * const proof = await provider.prove(client, { clusterName: ping.cluster_name });
 */
export class IamJoinProof {
  readonly method = 'iam' as const;
  /** Tells onboardings apart (token and region) without being a secret. */
  readonly fingerprint: string;
  private credentials: Promise<AwsCredentials> | undefined;

  constructor(private readonly options: IamJoinProofOptions) {
    // Fail at start-up, not at the first join, when the region is missing or wrong.
    stsEndpointFor(options.region, { fips: options.fips === true });
    this.fingerprint = `sha256:${createHash('sha256')
      .update(`iam\n${options.token}\n${options.region ?? ''}\n${options.fips === true ? 'fips' : ''}`)
      .digest('hex')}`;
  }

  async prove(
    client: ChallengeSource,
    context: { readonly clusterName: string },
  ): Promise<IamJoinRequestProof> {
    this.credentials ??=
      this.options.credentials === undefined
        ? defaultAwsCredentials()
        : Promise.resolve(this.options.credentials);
    return iamJoinProof(client, {
      ...this.options,
      credentials: await this.credentials,
      clusterName: context.clusterName,
    });
  }
}
