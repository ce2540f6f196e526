import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsManagerDestination } from '../../lib/bot/destinations/secrets-manager-destination.js';

export const MINUTE = 60_000;

export interface IdentitySecretOptions {
  readonly issuedAt: number;
  /** @default issuedAt + 60 min */
  readonly expiresAt?: number;
  readonly serial: string;
  /** @default 'ci' */
  readonly bot?: string;
  /** @default 'application grafana' */
  readonly output?: string;
}

/** Writes an output's files the way the bot does: through the real SecretsManagerDestination. */
export async function writeIdentitySecret(
  client: SecretsManagerClient,
  secretId: string,
  files: Readonly<Record<string, string>>,
  options: IdentitySecretOptions,
): Promise<void> {
  const destination = new SecretsManagerDestination({ client, secretId, sleep: async () => {} });
  await destination.write(
    Object.entries(files).map(([name, data]) => ({ name, data, secret: name === 'key' })),
    {
      bot: options.bot ?? 'ci',
      output: options.output ?? 'application grafana',
      serial: options.serial,
      issuedAt: new Date(options.issuedAt).toISOString(),
      expiresAt: new Date(options.expiresAt ?? options.issuedAt + 60 * MINUTE).toISOString(),
    },
  );
}
