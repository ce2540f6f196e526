/**
 * Structured logging for the service and the agent: readable lines on a terminal, JSON lines for
 * machines (`--log-format json`, Lambda). Field values under secret-sounding keys are replaced before
 * anything is written, as a last line of defence: callers should not pass secrets at all.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

const SECRET_KEY =
  /(private_?key|secret|password|token$|^token|signature|authorization|session_?token|credential)/i;
const PEM_PRIVATE = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?-----END [A-Z ]*PRIVATE KEY-----/g;
const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** Keys that look secret but only carry a reference (names, fingerprints, codes). */
const SAFE_KEYS = new Set(['token_name', 'token_fingerprint', 'join_token_name']);

export function redactFields(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [key, value] of Object.entries(fields)) {
    if (SECRET_KEY.test(key) && !SAFE_KEYS.has(key)) out[key] = '[redacted]';
    else if (typeof value === 'string') out[key] = value.replace(PEM_PRIVATE, '[redacted private key]');
    else if (value instanceof Error) out[key] = value.message.replace(PEM_PRIVATE, '[redacted private key]');
    else out[key] = value;
  }
  return out;
}

export interface LoggerOptions {
  format: 'text' | 'json';
  level?: LogLevel;
  write?: (line: string) => void;
  now?: () => Date;
}

export function createLogger(options: LoggerOptions, base: LogFields = {}): Logger {
  const minimum = LEVELS[options.level ?? 'info'];
  const write = options.write ?? ((line: string) => process.stderr.write(`${line}\n`));
  const now = options.now ?? (() => new Date());
  const emit = (level: LogLevel, message: string, fields: LogFields = {}) => {
    if (LEVELS[level] < minimum) return;
    const merged = redactFields({ ...base, ...fields });
    const time = now().toISOString();
    if (options.format === 'json') {
      write(JSON.stringify({ time, level, message, ...merged }));
      return;
    }
    const extras = Object.entries(merged)
      .filter(([, value]) => value !== undefined)
      .map(
        ([key, value]) =>
          `${key}=${typeof value === 'string' && !/\s/.test(value) ? value : JSON.stringify(value)}`,
      )
      .join(' ');
    write(`${time} ${level.toUpperCase().padEnd(5)} ${message}${extras ? ` ${extras}` : ''}`);
  };
  return {
    debug: (message, fields) => emit('debug', message, fields),
    info: (message, fields) => emit('info', message, fields),
    warn: (message, fields) => emit('warn', message, fields),
    error: (message, fields) => emit('error', message, fields),
    child: (fields) => createLogger(options, { ...base, ...fields }),
  };
}

/** A logger that drops everything (tests that do not look at logs). */
export const silentLogger: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  child: () => silentLogger,
};
