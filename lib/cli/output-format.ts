import { ConfigError } from '../core/errors.js';

export type OutputFormat = 'text' | 'yaml' | 'json';

export function parseOutputFormat(
  value: string | undefined,
  allowed: readonly OutputFormat[] = ['text', 'yaml', 'json'],
): OutputFormat {
  const format = (value ?? 'text') as OutputFormat;
  if (!allowed.includes(format)) {
    throw new ConfigError('invalid_flag', `--format: got "${value}", expected one of ${allowed.join(', ')}`);
  }
  return format;
}
