import { formatDuration } from '../../core/duration.js';
import { toYamlText, type YamlData } from '../../core/yaml-text.js';
import type { BotConfig, OutputConfig } from './bot-config.js';

/**
 * A checked config as the v2 YAML a person would write: keys in the order of the docs, durations as
 * text, and the switches that are off left out. `loadBotConfig` reads it back as the same config.
 */
export function botConfigYaml(config: BotConfig): string {
  return toYamlText({
    version: 'v2',
    auth_server: config.auth_server,
    onboarding: {
      ...config.onboarding,
      ca_pins: listOrNothing(config.onboarding.ca_pins),
      public_tls: config.onboarding.public_tls ? true : undefined,
    },
    storage: config.storage,
    certificate_ttl: formatDuration(config.certificate_ttl),
    renewal_interval: formatDuration(config.renewal_interval),
    oneshot: config.oneshot ? true : undefined,
    diag_addr: config.diag_addr,
    debug: config.debug ? true : undefined,
    // Last, so that another output can be added at the end of the file.
    outputs: outputsYamlData(config.outputs),
  });
}

/** Outputs as YAML data, `specific_tls_naming` only where it is on. */
export function outputsYamlData(outputs: readonly OutputConfig[]): YamlData {
  return outputs.map((output) =>
    output.type === 'application' && !output.specific_tls_naming
      ? { type: output.type, destination: output.destination, app_name: output.app_name, roles: output.roles }
      : output,
  );
}

function listOrNothing(items: readonly string[] | undefined): readonly string[] | undefined {
  return items === undefined || items.length === 0 ? undefined : items;
}
