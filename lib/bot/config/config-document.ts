import { ConfigError } from '../../core/errors.js';
import type { BotConfig } from './bot-config.js';
import type { ConfigText } from './config-text.js';
import { convertLegacyConfig } from './legacy-config.js';
import { parseV2Config } from './parse-v2-config.js';

/** The result of reading a config: the typed value, and things the user should change but need not. */
export interface LoadedBotConfig {
  readonly config: BotConfig;
  readonly warnings: string[];
}

/**
 * A config document, as read from YAML or JSON, checked as a v2 config or converted from the v1 shape
 * (with a warning). `source` names the file in errors.
 */
export function readConfigDocument({ document, locate }: ConfigText, source: string): LoadedBotConfig {
  const { version, record } = configVersionOf(document, source);
  if (version === 'v1') return convertLegacyConfig(record, source, locate);
  return { config: parseV2Config(record, source, locate), warnings: [] };
}

/**
 * Which shape a config document has: v2, or the v1 shape (no `version`, or `version: v1`). A file
 * without `version` that uses v2 keys is refused: it most likely lacks only that line.
 */
export function configVersionOf(
  document: unknown,
  source: string,
): { version: 'v1' | 'v2'; record: Record<string, unknown> } {
  if (document === null || typeof document !== 'object' || Array.isArray(document)) {
    throw new ConfigError(
      'invalid_config',
      `${source}: expected a mapping at the top level (version: v2, auth_server, onboarding, ...)`,
    );
  }
  const record = document as Record<string, unknown>;
  const version = record['version'];
  if (version === undefined || version === 'v1') {
    if (version === undefined && ('outputs' in record || isTyped(record['storage']))) {
      throw new ConfigError(
        'invalid_config',
        `${source}: version: got nothing, but the file uses v2 keys (outputs, storage.type); add \`version: v2\` at the top`,
      );
    }
    return { version: 'v1', record };
  }
  return { version: 'v2', record };
}

function isTyped(value: unknown): boolean {
  return value !== null && typeof value === 'object' && 'type' in value;
}
