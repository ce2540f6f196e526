import { ConfigError } from '../../core/errors.js';
import { parseWithSchema } from '../../core/schema.js';
import { nameSchema, type OutputConfig } from './bot-config.js';
import { destinationFromUri } from './destination-uri.js';

/**
 * The output modes of tbot 16 and later (`tbot start identity --destination file:///opt/machine-id`,
 * `tbot configure app --app grafana ...`): each names one output, which `midbot start MODE` appends to
 * the outputs of `-c` (or runs alone) and `midbot configure MODE` writes into a config file.
 */
export const START_MODES = {
  identity: {
    aliases: ['ssh', 'id'],
    summary: 'an identity output (identity file, SSH certificate, ssh_config)',
  },
  app: { aliases: ['application'], summary: "an application output (the app's client certificate)" },
  kubernetes: { aliases: ['k8s'], summary: 'a kubernetes output (kubeconfig.yaml for one cluster)' },
} as const;

export type StartMode = keyof typeof START_MODES;

/** The flags of a mode, as typed. */
export interface ModeFlags {
  /** Required; checked here rather than by the command line parser (see `addModeCommands`). */
  readonly destination?: string;
  /** `app`: the app's name. */
  readonly app?: string;
  /** `app`: also write `tls.crt`, `tls.key` and `tls.cas`. */
  readonly specificTlsExtensions?: boolean;
  /** `kubernetes`: the cluster's name. */
  readonly kubernetesCluster?: string;
  /** `kubernetes`: accepted because the kubeconfig never calls an exec plugin anyway. */
  readonly disableExecPlugin?: boolean;
}

/** The output a mode's flags describe, each flag checked by the schema of the key it sets. */
export function modeOutput(mode: StartMode, flags: ModeFlags, cwd: string): OutputConfig {
  if (flags.destination === undefined) {
    throw new ConfigError(
      'invalid_config',
      '--destination is required: where the output goes, e.g. --destination=file:///opt/machine-id',
    );
  }
  const destination = destinationFromUri(flags.destination, '--destination', cwd);
  switch (mode) {
    case 'identity':
      return { type: 'identity', destination };
    case 'app':
      return {
        type: 'application',
        destination,
        app_name: requiredName(flags.app, '--app', 'the app name', 'grafana'),
        specific_tls_naming: flags.specificTlsExtensions === true,
      };
    case 'kubernetes':
      return {
        type: 'kubernetes',
        destination,
        kubernetes_cluster: requiredName(
          flags.kubernetesCluster,
          '--kubernetes-cluster',
          'the Kubernetes cluster name',
          'prod-cluster',
        ),
        ...(flags.disableExecPlugin === true ? { disable_exec_plugin: true } : {}),
      };
  }
}

function requiredName(value: string | undefined, flag: string, what: string, example: string): string {
  if (value === undefined) {
    throw new ConfigError('invalid_config', `${flag} is required: give ${what}, e.g. ${flag}=${example}`);
  }
  return parseWithSchema(nameSchema(what), value, {
    code: 'invalid_config',
    label: () => flag,
    error: (code, message) => new ConfigError(code, message),
  });
}
