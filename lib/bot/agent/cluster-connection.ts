import type { PingResponse } from '../../api/ping.js';
import type { Clock } from '../../core/clock.js';
import { ConfigError } from '../../core/errors.js';
import { readSmallFile } from '../../core/read-small-file.js';
import { caPin } from '../../pki/ca-pin.js';
import { BotApiClient } from '../auth-client/bot-api-client.js';
import { discoverClusterTrust, verifyPinnedPing } from '../auth-client/cluster-trust.js';
import type { OnboardingConfig } from '../config/onboarding-config.js';

/** The most `onboarding.ca_path` may hold: a CA bundle is a few KiB. */
const MAX_CA_FILE_BYTES = 1_048_576;

/** The auth service once its CA pin checked out: a client that trusts only that CA, and its ping. */
export interface ClusterConnection {
  readonly client: BotApiClient;
  readonly ping: PingResponse;
  /** The pin that matched. */
  readonly pin: string;
}

export interface ConnectOptions {
  readonly clock: Clock;
  /** Reads `onboarding.ca_path`. @default a regular file of at most 1 MiB */
  readonly readCaFile?: (path: string) => Promise<string>;
  /** Per-request timeout. @default 15 s */
  readonly timeoutMs?: number;
}

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/** `ca_pins` plus the pins of the certificates in `ca_path`, if set. */
export async function trustedPins(
  onboarding: OnboardingConfig,
  readCaFile: (path: string) => Promise<string>,
): Promise<string[]> {
  const pins = [...onboarding.ca_pins];
  if (onboarding.ca_path !== undefined) {
    let text: string;
    try {
      text = await readCaFile(onboarding.ca_path);
    } catch (error) {
      throw new ConfigError(
        'unreadable_ca_path',
        `onboarding.ca_path: cannot read ${onboarding.ca_path} (${(error as NodeJS.ErrnoException).code ?? 'error'}); point it at the cluster's CA certificate (PEM)`,
        { cause: error },
      );
    }
    const certificates = text.match(PEM_CERTIFICATE) ?? [];
    if (certificates.length === 0) {
      throw new ConfigError(
        'invalid_ca_path',
        `onboarding.ca_path: ${onboarding.ca_path} holds no PEM certificate; point it at the cluster's CA certificate`,
      );
    }
    pins.push(...certificates.map((pem) => caPin(pem)));
  }
  return [...new Set(pins)];
}

/**
 * Connects to the auth service the way SECURITY rule 11 asks: the CA the service presents in its TLS
 * handshake must match a pin, and becomes the only trust anchor for every later call. Only with
 * `onboarding.public_tls` may a service present a publicly trusted certificate instead (API Gateway):
 * then the public PKI authenticates it, and pins, if any, must match the host CA it reports (a check
 * that this is the right cluster, not an authentication: that list is public). A mismatch aborts with
 * the pins observed; there is no insecure fallback.
 */
export async function connectToCluster(
  authServer: string,
  onboarding: OnboardingConfig,
  options: ConnectOptions,
): Promise<ClusterConnection> {
  if (!authServer.startsWith('https://')) {
    throw new ConfigError(
      'insecure_auth_server',
      `auth_server: ${authServer} is not https; midbot checks the cluster's CA pin in the TLS handshake, so it only talks to an https:// auth service`,
    );
  }
  // A CA bundle is a few KiB; a FIFO or a device named by mistake is refused, not waited on or read whole.
  const pins = await trustedPins(
    onboarding,
    options.readCaFile ?? (async (path) => readSmallFile(path, MAX_CA_FILE_BYTES)),
  );
  const trust = await discoverClusterTrust(authServer, pins, {
    publicTls: onboarding.public_tls,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
  });
  const client = new BotApiClient(authServer, trust.caPem, options.clock, options.timeoutMs);
  try {
    const ping = await client.ping();
    // With pins, a publicly trusted service must still report a pinned host CA; with public_tls alone,
    // the verified TLS handshake is the authentication.
    const pin =
      trust.publiclyTrusted && pins.length > 0
        ? verifyPinnedPing(ping.ca.tls_host_ca_certs, pins, authServer).pin
        : trust.pin;
    return { client, ping, pin };
  } catch (error) {
    client.close();
    throw error;
  }
}
