import { ConfigError } from '../../core/errors.js';

/** Config files are a few hundred bytes; anything near this is a mistake or an attack on the parser. */
export const MAX_CONFIG_BYTES = 256 * 1024;

/** Refuses a config text over {@link MAX_CONFIG_BYTES} before any parser sees it. */
export function checkConfigSize(text: string, source: string): void {
  if (Buffer.byteLength(text, 'utf8') > MAX_CONFIG_BYTES) {
    throw new ConfigError(
      'invalid_config',
      `${source}: the file is larger than ${MAX_CONFIG_BYTES / 1024} KiB; is this the right file?`,
    );
  }
}
