import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SecretsManagerDestination } from '../../lib/bot/destinations/secrets-manager-destination.js';
import { type MtlsAppServer, startMtlsAppServer } from '../support/mtls-app-server.js';
import { createOpensslCa, type OpensslCa } from '../support/openssl-ca.js';

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

/** The billing app of the consumer tests, with the two CAs of a deployment and the bot's client certificate. */
export interface BillingApp {
  /** The cluster's user CA: it signs the bot's client certificate, and the app trusts it. */
  readonly userCa: OpensslCa;
  /** The CA of the app's server certificate, which the consumer trusts separately. */
  readonly appCa: OpensslCa;
  readonly app: MtlsAppServer;
  /** The bot's client certificate and key, `CN=bot-ci`. */
  readonly bot: { readonly certPem: string; readonly keyPem: string };
}

/** Starts the billing app on loopback (mutual TLS), with its CAs made in `work`. */
export async function startBillingApp(work: string): Promise<BillingApp> {
  const userCa = await createOpensslCa(work, 'Machine ID user CA');
  const appCa = await createOpensslCa(work, 'Billing server CA');
  const server = await appCa.issue({ commonName: 'billing', usage: 'server', ipAddresses: ['127.0.0.1'] });
  const bot = await userCa.issue({ commonName: 'bot-ci', usage: 'client' });
  const app = await startMtlsAppServer({
    serverCertPem: server.certPem,
    serverKeyPem: server.keyPem,
    clientCaPem: userCa.certPem,
    appName: 'billing',
  });
  return { userCa, appCa, app, bot };
}
