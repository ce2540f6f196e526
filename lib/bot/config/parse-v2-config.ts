import { ConfigError } from '../../core/errors.js';
import { parseWithSchema } from '../../core/schema.js';
import type { Locate } from '../../core/yaml-locator.js';
import { type BotConfig, type BotConfigParts, botConfigPartsSchema, botConfigSchema } from './bot-config.js';
import { locateHeldValues } from './config-text.js';

/** Keys tbot users may bring along that midbot spells differently or does not need. */
const KEY_HINTS: Record<string, string> = {
  proxy_server: 'midbot talks to the auth service directly; use auth_server',
  credential_ttl: 'midbot calls this certificate_ttl',
  services: 'midbot has no services; describe what to write under outputs',
  destinations:
    'destinations is the v1 shape; with version: v2 write outputs (see the v1 conversion warning)',
};

/**
 * Checks a v2 config (read from YAML or JSON, or built from flags) against the schema.
 *
 * @throws ConfigError `invalid_config` naming `source`, the key path, the value (never the token) and
 *   the fix.
 */
export function parseV2Config(document: Record<string, unknown>, source: string, locate?: Locate): BotConfig {
  refuseHintedKeys(document, source, locate);
  return parseWithSchema(botConfigSchema, document, fileOptions(source, locateHeldValues(document, locate)));
}

/**
 * Checks each key a v2 file holds, as `parseV2Config` does, but requires none and leaves the rules
 * across keys out: flags may still fill in or replace keys (`midbot start -c FILE` with flags).
 */
export function checkV2ConfigParts(
  document: Record<string, unknown>,
  source: string,
  locate?: Locate,
): BotConfigParts {
  refuseHintedKeys(document, source, locate);
  return parseWithSchema(
    botConfigPartsSchema,
    document,
    fileOptions(source, locateHeldValues(document, locate)),
  );
}

function refuseHintedKeys(document: Record<string, unknown>, source: string, locate?: Locate): void {
  for (const [key, hint] of Object.entries(KEY_HINTS)) {
    if (key in document) {
      const at = locate?.([key]);
      throw new ConfigError(
        'invalid_config',
        `${source}: ${key}${at === undefined ? '' : ` (${at})`}: unknown key; ${hint}`,
      );
    }
  }
}

function fileOptions(source: string, locate: Locate | undefined) {
  return {
    locate,
    code: 'invalid_config',
    redact: ['token', 'onboarding'],
    error: (code: string, message: string) => new ConfigError(code, `${source}: ${message}`),
  };
}
