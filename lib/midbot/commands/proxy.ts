import { X509Certificate } from 'node:crypto';
import path from 'node:path';
import * as z from 'zod';
import { loadConfigOutputs } from '../../bot/config/load-bot-config.js';
import { AppCredentialsFolder } from '../../bot/proxy/app-credentials.js';
import { startLocalAppProxy } from '../../bot/proxy/local-app-proxy.js';
import { ConfigError } from '../../core/errors.js';
import { readProblemOf } from '../../core/read-small-file.js';
import { parseWithSchema } from '../../core/schema.js';
import { type MidbotIo, type MidbotSignal, midbotLogger } from '../midbot-io.js';
import { readConfigFile } from '../start-config.js';

export interface ProxyAppOptions {
  readonly appName: string;
  readonly appUri?: string;
  readonly appCa?: string;
  readonly config?: string;
  readonly destinationDir?: string;
  readonly port?: string;
  readonly logFormat: 'text' | 'json';
  readonly debug?: boolean;
}

const appUriSchema = z
  .url({
    protocol: /^https$/,
    error:
      "expected an https URL such as https://grafana.internal:3000 (the bot's certificate only travels over TLS)",
  })
  .transform((value) => new URL(value))
  .refine((url) => url.username === '' && url.password === '' && url.search === '' && url.hash === '', {
    error: 'expected the app address alone: no user, query or fragment',
  });

const portSchema = z
  .string()
  .regex(/^\d{1,5}$/, 'expected a port number, e.g. 1234')
  .transform(Number)
  .refine((port) => port <= 65_535, 'expected a port number up to 65535');

/**
 * `midbot proxy app` (tbot's `proxy app`): serves the app on http://127.0.0.1:PORT, presenting the
 * certificate an application output keeps renewed, until SIGINT or SIGTERM.
 */
export async function proxyApp(options: ProxyAppOptions, io: MidbotIo): Promise<void> {
  const logger = midbotLogger(io, options.logFormat, options.debug === true ? 'debug' : 'info');
  const appUri = checkedAppUri(options);
  const port = options.port === undefined ? 0 : checked('--port', portSchema, options.port);
  const folder = chooseFolder(options, io);
  const credentials = new AppCredentialsFolder(folder, options.appName, io.clock);
  // A folder that cannot serve now is the user's to fix, so it is refused before listening.
  const credential = credentials.current();
  const appCaPem = options.appCa === undefined ? undefined : readAppCa(options.appCa, io);
  const proxy = await startLocalAppProxy({
    credentials,
    appUri,
    ...(appCaPem === undefined ? {} : { appCaPem }),
    port,
    logger,
  });
  const others = proxy.addresses.slice(1).map((address) => `http://${address}`);
  const also = others.length === 0 ? '' : ` (and ${others.join(', ')})`;
  io.write(`Proxying ${proxy.url}${also} to app "${options.appName}" at ${appUri.href}\n`);
  logger.info(
    `Listening on ${proxy.addresses.join(' and ')} for app "${options.appName}" at ${appUri.href}`,
    {
      folder,
      serial: credential.serial,
      expires_at: credential.expiresAt.toISOString(),
    },
  );
  logger.warn(
    'Any program on this machine that can connect to the loopback address can use the app as the bot, with no authentication (web pages in a browser are refused): run this only on a machine you trust',
  );
  const signal = await untilStopped(io);
  logger.info(`${signal}: stopping the proxy`);
  await proxy.close();
}

/** The first SIGINT or SIGTERM; midbot's handlers are gone after it, so a second ends the process. */
function untilStopped(io: MidbotIo): Promise<MidbotSignal> {
  return new Promise((resolve) => {
    const handlers: Array<() => void> = [];
    const stop = (signal: MidbotSignal) => () => {
      for (const remove of handlers) remove();
      resolve(signal);
    };
    handlers.push(io.onSignal('SIGINT', stop('SIGINT')), io.onSignal('SIGTERM', stop('SIGTERM')));
  });
}

function checkedAppUri(options: ProxyAppOptions): URL {
  if (options.appUri === undefined) {
    throw new ConfigError(
      'invalid_flag',
      `--app-uri is required: midbot has no proxy service in between and connects to the app itself; give the https address the app "${options.appName}" serves on, its spec.uri (\`midctl get app/${options.appName}\` shows it)`,
    );
  }
  return checked('--app-uri', appUriSchema, options.appUri);
}

function checked<Schema extends z.ZodType>(flag: string, schema: Schema, value: string): z.output<Schema> {
  return parseWithSchema(schema, value, {
    code: 'invalid_flag',
    error: (code, message) => new ConfigError(code, message),
    root: flag,
  });
}

/** The application output's folder: the flag, or the folder of the config's output for the app. */
function chooseFolder(options: ProxyAppOptions, io: MidbotIo): string {
  const cwd = io.cwd();
  if (options.destinationDir !== undefined) {
    if (options.config !== undefined) {
      throw new ConfigError('invalid_flag', 'give --destination-dir or -c, not both');
    }
    return path.resolve(cwd, options.destinationDir);
  }
  if (options.config === undefined) {
    throw new ConfigError(
      'invalid_flag',
      `--destination-dir is required (or -c FILE with an application output for app "${options.appName}"), e.g. --destination-dir=/opt/machine-id`,
    );
  }
  const outputs = loadConfigOutputs(readConfigFile(options.config, cwd, io.readFile), options.config);
  const folders = outputs.flatMap((output) =>
    output.type === 'application' &&
    output.app_name === options.appName &&
    output.destination.type === 'directory'
      ? [output.destination.path]
      : [],
  );
  const [first, ...others] = folders;
  if (first === undefined) {
    throw new ConfigError(
      'invalid_flag',
      `${options.config} has no application output for app "${options.appName}" with a directory destination; add one (type: application, app_name: ${options.appName}) or give --destination-dir`,
    );
  }
  if (others.length > 0) {
    throw new ConfigError(
      'invalid_flag',
      `${options.config} has ${folders.length} application outputs for app "${options.appName}" (${folders.join(', ')}); say which folder with --destination-dir`,
    );
  }
  return first;
}

function readAppCa(file: string, io: MidbotIo): string {
  let text: string;
  try {
    text = io.readFile(path.resolve(io.cwd(), file));
  } catch (error) {
    throw new ConfigError(
      'invalid_flag',
      `--app-ca ${file}: ${readProblemOf(error) === 'missing' ? 'no such file' : 'cannot read it'}; give the PEM file of the CA that signed the app's server certificate`,
    );
  }
  const blocks = text.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
  const unreadable = blocks.findIndex((block) => !isCertificate(block));
  if (blocks.length === 0 || unreadable !== -1) {
    throw new ConfigError(
      'invalid_flag',
      `--app-ca ${file}: ${blocks.length === 0 ? 'holds no PEM certificate' : `certificate ${unreadable + 1} of ${blocks.length} cannot be read`}; give the CA that signed the app's server certificate (-----BEGIN CERTIFICATE----- ...)`,
    );
  }
  return text;
}

function isCertificate(pem: string): boolean {
  try {
    new X509Certificate(pem);
    return true;
  } catch {
    return false;
  }
}
