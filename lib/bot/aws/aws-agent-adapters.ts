import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { JoinProofProvider } from '../agent/join-proof-provider.js';
import type { DestinationFactory } from '../agent/output-destinations.js';
import { defaultDestinationFactory, MEMORY_ARTIFACT_DIR } from '../agent/output-destinations.js';
import type { OnboardingConfig } from '../config/onboarding-config.js';
import { regionOfSecretArn } from '../config/secret-reference.js';
import { createSecretsManagerClient } from '../destinations/secrets-manager-client.js';
import { SecretsManagerDestination } from '../destinations/secrets-manager-destination.js';
import { IamJoinProof } from '../iam/iam-join-proof.js';
import type { AwsCredentials } from '../iam/sign-get-caller-identity.js';

/**
 * The agent's AWS adapters, for the composition roots (`midbot start`, the bot Lambda): the `iam` join
 * proof and the Secrets Manager destination. The agent itself never imports the AWS SDK.
 */
export interface AwsAgentEnvironment {
  /** `AWS_REGION` (or `AWS_DEFAULT_REGION`) of the process. */
  readonly region: string | undefined;
  readonly credentials?: AwsCredentials;
  /** One client per region, built by the caller once per cold start; made on demand otherwise. */
  readonly secretsManagerClient?: (region: string | undefined) => SecretsManagerClient;
}

/** The join proof for `onboarding`, or undefined to let the agent use its default (`token`). */
export function awsJoinProof(
  onboarding: OnboardingConfig,
  environment: AwsAgentEnvironment,
): JoinProofProvider | undefined {
  if (onboarding.join_method !== 'iam') return undefined;
  return new IamJoinProof({
    token: onboarding.token,
    region: environment.region,
    ...(environment.credentials === undefined ? {} : { credentials: environment.credentials }),
  });
}

/** Directory and memory destinations as usual, plus `aws_secrets_manager` (one secret per output). */
export function awsDestinationFactory(environment: AwsAgentEnvironment): DestinationFactory {
  const clients = new Map<string, SecretsManagerClient>();
  const clientFor = (region: string | undefined): SecretsManagerClient => {
    const key = region ?? '';
    let client = clients.get(key);
    if (client === undefined) {
      client =
        environment.secretsManagerClient?.(region) ??
        createSecretsManagerClient(region === undefined ? {} : { region });
      clients.set(key, client);
    }
    return client;
  };
  return (config, index) => {
    if (config.type !== 'aws_secrets_manager') return defaultDestinationFactory(config, index);
    return {
      destination: new SecretsManagerDestination({
        // A secret named by its ARN is called in the ARN's region (the config refuses another region:).
        client: clientFor(config.region ?? regionOfSecretArn(config.name) ?? environment.region),
        secretId: config.name,
        ...(config.kms_key_id === undefined ? {} : { kmsKeyId: config.kms_key_id }),
      }),
      // Consumers recreate the folder wherever they like; writeIdentityFiles rewrites ssh_config paths.
      artifactDir: MEMORY_ARTIFACT_DIR,
    };
  };
}
