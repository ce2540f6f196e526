import { describe, expect, it } from 'vitest';
import { maySameSecret, secretReference } from '../../../lib/bot/config/secret-reference.js';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:machine-id/ci/ssh-AbC123';

describe('the secret a destination name points at', () => {
  it('is one secret by its name, its full ARN and its partial ARN', () => {
    const byName = secretReference('machine-id/ci/ssh', undefined);
    const full = secretReference(ARN, undefined);
    const partial = secretReference(
      'arn:aws:secretsmanager:eu-west-1:123456789012:secret:machine-id/ci/ssh',
      undefined,
    );
    expect(full).toEqual({
      names: ['machine-id/ci/ssh-AbC123', 'machine-id/ci/ssh'],
      region: 'eu-west-1',
      account: '123456789012',
    });
    expect(maySameSecret(byName, full)).toBe(true);
    expect(maySameSecret(partial, full)).toBe(true);
    expect(maySameSecret(secretReference('machine-id/ci/ssh', 'eu-west-1'), full)).toBe(true);
  });

  it('is another secret in another region or account, or under another name', () => {
    const full = secretReference(ARN, undefined);
    expect(maySameSecret(secretReference('machine-id/ci/ssh', 'us-east-1'), full)).toBe(false);
    expect(maySameSecret(secretReference(ARN.replace('123456789012', '210987654321'), undefined), full)).toBe(
      false,
    );
    expect(maySameSecret(secretReference('machine-id/ci/app', undefined), full)).toBe(false);
    expect(maySameSecret(secretReference('a', 'eu-west-1'), secretReference('a', 'us-east-1'))).toBe(false);
    // A name that merely ends like a suffix is still its own name when given as a name.
    expect(
      maySameSecret(
        secretReference('machine-id/ci/ssh', undefined),
        secretReference('machine-id/ci/ssh-AbC123', undefined),
      ),
    ).toBe(false);
  });
});
