import { ConfigError } from '../../core/errors.js';
import type { DestinationConfig, OutputConfig } from '../config/bot-config.js';
import type { Destination } from '../destinations/destination.js';
import { DirectoryDestination } from '../destinations/directory-destination.js';
import { MemoryDestination } from '../destinations/memory-destination.js';

/** A destination ready to write, and the folder its files will be read from (written into ssh_config). */
export interface OutputDestination {
  readonly destination: Destination;
  readonly artifactDir: string;
}

/** An output of the config with its destination built. */
export interface ResolvedOutput {
  /** Position in the config's `outputs`, for messages (`outputs[1]`). */
  readonly index: number;
  readonly config: OutputConfig;
  readonly destination: Destination;
  readonly artifactDir: string;
}

/** Builds a destination from its config; the agent's default handles `directory` and `memory`. */
export type DestinationFactory = (config: DestinationConfig, index: number) => OutputDestination;

/**
 * Where a memory destination's files would be recreated, for ssh_config. Embedders that recreate them
 * elsewhere pass their own factory.
 */
export const MEMORY_ARTIFACT_DIR = '/run/midbot';

export const defaultDestinationFactory: DestinationFactory = (config, index) => {
  switch (config.type) {
    case 'directory':
      return { destination: new DirectoryDestination(config.path), artifactDir: config.path };
    case 'memory':
      return { destination: new MemoryDestination(), artifactDir: MEMORY_ARTIFACT_DIR };
    case 'aws_secrets_manager':
      throw new ConfigError(
        'destination_unavailable',
        `outputs[${index}].destination: midbot on a host writes directory (and memory) destinations; aws_secrets_manager is written by the bot Lambda. Use type: directory here`,
      );
  }
};

/** Builds every output's destination up front, so that a config midbot cannot serve fails before it joins. */
export function resolveOutputs(
  outputs: readonly OutputConfig[],
  factory: DestinationFactory = defaultDestinationFactory,
): ResolvedOutput[] {
  return outputs.map((config, index) => ({ index, config, ...factory(config.destination, index) }));
}

/** What an output is for, as log lines say it: `identity`, `app "grafana"`, `Kubernetes cluster "prod"`. */
export function describeOutputTarget(config: OutputConfig): string {
  switch (config.type) {
    case 'identity':
      return 'identity';
    case 'application':
      return `app "${config.app_name}"`;
    case 'kubernetes':
      return `Kubernetes cluster "${config.kubernetes_cluster}"`;
    case 'ssh_host':
      return `SSH host ${config.principals.join(', ')}`;
  }
}

/** The output's name in destination metadata: its type plus what it is for (`application grafana`). */
export function outputName(config: OutputConfig): string {
  switch (config.type) {
    case 'identity':
      return 'identity';
    case 'application':
      return `application ${config.app_name}`;
    case 'kubernetes':
      return `kubernetes ${config.kubernetes_cluster}`;
    case 'ssh_host':
      return `ssh_host ${config.principals.join(',')}`;
  }
}
