import { type LoadedBotConfig, readConfigDocument } from './config-document.js';
import { parseConfigJson } from './parse-config-json.js';

/**
 * `loadBotConfig` that loads the YAML parser only for a config written in YAML. The MachineIdBot
 * construct writes the bot Lambda's config as JSON, so its cold start never evaluates the parser;
 * YAML set by hand still works, with the same result and errors as `loadBotConfig`.
 *
 * Only `parse-config-yaml.ts` is imported on demand. The bundler turns a module imported that way, and
 * everything it imports, into a function run on first use; that module imports nothing of zod, which
 * every run needs at once and which starts slower when wrapped so.
 */
export async function loadBotConfigLazily(text: string, source: string): Promise<LoadedBotConfig> {
  const json = parseConfigJson(text, source);
  const read =
    json === undefined
      ? (await import('./parse-config-yaml.js')).parseConfigYaml(text, source)
      : { document: json };
  return readConfigDocument(read, source);
}
