import type { OutputCertificatesRequest, OutputCertificatesResponse } from '../../api/output-certificates.js';
import { privateKeyToPem, publicKeyToPem } from '../../pki/key-encoding.js';
import { generateKeyPair, type KeyPair, type SignatureSuiteName } from '../../pki/signature-suite.js';
import { toAuthorizedKey } from '../../pki/ssh-public-key.js';
import type { OutputConfig } from '../config/bot-config.js';
import { renderOutput } from '../render/render-output.js';
import { outputName, type ResolvedOutput } from './output-destinations.js';

/** What one output's write produced. */
export interface WrittenOutput {
  readonly serial: string;
  readonly expiresAt: string;
  readonly roles: readonly string[];
  readonly files: readonly string[];
}

/** The certificate request of an output: its kind, narrowed roles, TTL and the name it is for. */
export function outputRequest(
  config: OutputConfig,
  publicKeyPem: string,
  certificateTtlMs: number,
): OutputCertificatesRequest {
  const base = {
    public_key: publicKeyPem,
    ttl_seconds: Math.max(1, Math.ceil(certificateTtlMs / 1000)),
    ...(config.roles === undefined || config.roles.length === 0 ? {} : { roles: config.roles }),
  };
  switch (config.type) {
    case 'identity':
      return { output: 'identity', ...base };
    case 'application':
      return { output: 'application', ...base, app_name: config.app_name };
    case 'kubernetes':
      return { output: 'kubernetes', ...base, kubernetes_cluster: config.kubernetes_cluster };
    case 'ssh_host':
      return { output: 'ssh_host', ...base, principals: config.principals };
  }
}

/** An output about to be issued: its fresh key pair and the certificate request for it. */
export interface PendingOutput {
  readonly output: ResolvedOutput;
  readonly keys: KeyPair;
  readonly request: OutputCertificatesRequest;
}

/**
 * Starts one output of one run with a fresh key pair: never reused across outputs or runs, so a leaked
 * key dies with its certificate.
 */
export function prepareOutput(
  output: ResolvedOutput,
  suite: SignatureSuiteName,
  certificateTtlMs: number,
): PendingOutput {
  const keys = generateKeyPair(suite, 'subject');
  return {
    output,
    keys,
    request: outputRequest(output.config, publicKeyToPem(keys.publicKey), certificateTtlMs),
  };
}

/**
 * Renders an issued output and writes all its files in one destination write. Everything is built in
 * memory first, so a failure at any step leaves the previous artifacts as they were.
 */
export async function writeIssuedOutput(
  pending: PendingOutput,
  response: OutputCertificatesResponse,
): Promise<WrittenOutput> {
  const { output, keys } = pending;
  const files = renderOutput(
    output.config.type,
    response,
    { privateKeyPem: privateKeyToPem(keys.privateKey), sshPublicKey: toAuthorizedKey(keys.publicKey) },
    {
      artifactDir: output.artifactDir,
      specificTlsNaming: specificTlsNamingOf(output.config),
    },
  );
  await output.destination.write(files, {
    bot: response.bot_name,
    output: outputName(output.config),
    serial: response.serial,
    issuedAt: response.issued_at,
    expiresAt: response.expires_at,
  });
  return {
    serial: response.serial,
    expiresAt: response.expires_at,
    roles: response.roles,
    files: files.map((file) => file.name),
  };
}

/** tbot's wording, so that `grep -i app` and `grep -i kubernetes` in the journal find the lines. */
/** Whether an output writes tbot's `tls.crt`, `tls.key` and `tls.cas` too (an application output's choice). */
export function specificTlsNamingOf(config: OutputConfig): boolean {
  return config.type === 'application' && config.specific_tls_naming;
}

export function generatedMessage(output: ResolvedOutput): string {
  const { config } = output;
  switch (config.type) {
    case 'identity':
      return 'Generated identity';
    case 'application':
      return `Generated identity for app "${config.app_name}"`;
    case 'kubernetes':
      return `Generated identity for Kubernetes cluster "${config.kubernetes_cluster}"`;
    case 'ssh_host':
      return `Generated host certificate for ${config.principals.join(', ')}`;
  }
}
