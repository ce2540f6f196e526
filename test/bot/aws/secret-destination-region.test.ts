import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it } from 'vitest';
import { awsDestinationFactory } from '../../../lib/bot/aws/aws-agent-adapters.js';

/** The regions the factory asked clients for, with real (unused) clients. */
function factoryIn(region: string | undefined) {
  const asked: Array<string | undefined> = [];
  const factory = awsDestinationFactory({
    region,
    secretsManagerClient: (clientRegion) => {
      asked.push(clientRegion);
      return new SecretsManagerClient({ region: clientRegion ?? 'us-east-1' });
    },
  });
  return { asked, factory };
}

describe('the region a Secrets Manager destination is called in', () => {
  it("is the ARN's region for a secret named by its ARN, the process's for a name, and region: when given", () => {
    const { asked, factory } = factoryIn('us-east-1');
    factory(
      {
        type: 'aws_secrets_manager',
        name: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:machine-id/ci/ssh-AbC123',
      },
      0,
    );
    factory({ type: 'aws_secrets_manager', name: 'machine-id/ci/app' }, 1);
    factory({ type: 'aws_secrets_manager', name: 'machine-id/ci/kube', region: 'ap-southeast-2' }, 2);
    expect(asked).toEqual(['eu-west-1', 'us-east-1', 'ap-southeast-2']);
  });
});
