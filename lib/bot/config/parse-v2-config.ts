import { ConfigError } from '../../core/errors.js';
import { formatPath, parseWithSchema } from '../../core/schema.js';
import type { Locate } from '../../core/yaml-locator.js';
import { type BotConfig, type BotConfigParts, botConfigPartsSchema, botConfigSchema } from './bot-config.js';
import { locateHeldValues } from './config-text.js';

/** Keys tbot users may bring along that midbot spells differently or does not need. */
const KEY_HINTS: Record<string, string> = {
  proxy_server: 'midbot talks to the auth service directly; use auth_server',
  services:
    'midbot has no services: for an application tunnel (type: application-tunnel), add an application output and run `midbot proxy app` on its folder beside `midbot start`; write certificates under outputs',
  destinations:
    'destinations is the v1 shape; with version: v2 write outputs (see the v1 conversion warning)',
  insecure:
    'midbot always authenticates the auth service and has no insecure mode: list the pin printed by `midctl bots add` or `midctl status` under onboarding.ca_pins (or set onboarding.public_tls: true for an auth service with a publicly trusted certificate, as behind API Gateway), and remove the key',
  fips: 'midbot has no FIPS mode (it uses the OpenSSL built into Node.js, and nothing in midbot limits it to FIPS-validated algorithms); remove the key',
};

/** The same for the keys of an output of each type (`outputs[N].KEY`). */
const OUTPUT_KEY_HINTS: Record<string, Record<string, string>> = {
  identity: {
    ssh_config:
      'midbot always writes ssh_config with an identity output (nothing to switch off); remove the key',
  },
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
  refuseKeys(document, KEY_HINTS, [], source, locate);
  const outputs = document['outputs'];
  if (!Array.isArray(outputs)) return;
  outputs.forEach((output: unknown, index) => {
    if (output === null || typeof output !== 'object') return;
    const type = (output as Record<string, unknown>)['type'];
    const hints = typeof type === 'string' ? OUTPUT_KEY_HINTS[type] : undefined;
    if (hints !== undefined) {
      refuseKeys(output as Record<string, unknown>, hints, ['outputs', index], source, locate);
    }
  });
}

function refuseKeys(
  record: Record<string, unknown>,
  hints: Record<string, string>,
  at: readonly (string | number)[],
  source: string,
  locate?: Locate,
): void {
  for (const [key, hint] of Object.entries(hints)) {
    if (Object.hasOwn(record, key)) {
      const line = locate?.([...at, key]);
      throw new ConfigError(
        'invalid_config',
        `${source}: ${formatPath([...at, key])}${line === undefined ? '' : ` (${line})`}: unknown key; ${hint}`,
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
