import { formatDuration } from '../core/duration.js';
import type { MachineIdBotOutputProps } from './machine-id-bot-output.js';

/** What the bot Lambda's config is made of. */
export interface BotConfigInput {
  /** The auth service's URL (a token until deploy). */
  readonly authServer: string;
  /** The `iam` join token's name. */
  readonly tokenName: string;
  /** Each output with the ARN of its secret (a token until deploy). */
  readonly outputs: ReadonlyArray<{ readonly output: MachineIdBotOutputProps; readonly secretArn: string }>;
  /** How long certificates live, in milliseconds. */
  readonly certificateTtlMs: number;
  /** How often the bot runs, in milliseconds. */
  readonly renewalIntervalMs: number;
}

/**
 * The agent's v2 config for `MID_BOT_CONFIG`: IAM join, in-memory storage (each run joins afresh, so no
 * renewable identity is kept anywhere between runs), one run per invocation, each output to its own
 * secret. There are no CA pins: `public_tls` has the agent authenticate the API by its publicly trusted
 * certificate (API Gateway's), as any HTTPS client would.
 *
 * Written as JSON, which is YAML too: the agent reads JSON without loading a YAML parser, which the
 * Lambda's cold start then never pays for. The ARNs and the URL resolve only at deploy time, inside
 * JSON strings; they hold no quote, backslash or control character, so the text stays valid JSON.
 */
export function renderBotConfig(input: BotConfigInput): string {
  const config = {
    version: 'v2',
    auth_server: input.authServer,
    onboarding: { join_method: 'iam', token: input.tokenName, public_tls: true },
    storage: { type: 'memory' },
    oneshot: true,
    certificate_ttl: formatDuration(input.certificateTtlMs),
    renewal_interval: formatDuration(input.renewalIntervalMs),
    outputs: input.outputs.map(({ output, secretArn }) => ({
      type: output.type,
      ...(output.appName === undefined ? {} : { app_name: output.appName }),
      ...(output.specificTlsNaming === undefined ? {} : { specific_tls_naming: output.specificTlsNaming }),
      ...(output.kubernetesCluster === undefined ? {} : { kubernetes_cluster: output.kubernetesCluster }),
      ...(output.principals === undefined ? {} : { principals: [...output.principals] }),
      ...(output.roles === undefined ? {} : { roles: [...output.roles] }),
      destination: { type: 'aws_secrets_manager', name: secretArn },
    })),
  };
  return JSON.stringify(config);
}
