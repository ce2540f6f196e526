import { once } from 'node:events';
import http, { type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { isIP } from 'node:net';
import { pipeline } from 'node:stream';
import type { Logger } from '../../core/logger.js';
import { type AppCredential, AppCredentialError, type AppCredentialsFolder } from './app-credentials.js';

export interface LocalAppProxyOptions {
  readonly credentials: AppCredentialsFolder;
  /** Where the app serves HTTPS (its `spec.uri`); a path is a prefix of every request's path. */
  readonly appUri: URL;
  /** CA certificates (PEM) the app's server certificate must chain to. @default the system's */
  readonly appCaPem?: string;
  /** @default 0: any free port */
  readonly port?: number;
  readonly logger: Logger;
}

export interface LocalAppProxy {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * Headers that describe one connection rather than the request (RFC 9110 §7.6.1), which a proxy must
 * not pass on; `host` is the app's, set separately.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'host',
]);

/** How long an idle connection to the app is kept for the next request. */
const IDLE_UPSTREAM_MS = 30_000;

/**
 * `midbot proxy app`: a plain HTTP listener on 127.0.0.1 that sends every request on to the app over
 * HTTPS, presenting the app's certificate from an application output (tbot's `proxy app`). Tools that
 * cannot present a client certificate (a browser, a script, an SDK without mTLS options) reach the app
 * through it. Connection upgrades (WebSocket) are passed through.
 *
 * There is no Teleport proxy in between: the app itself checks the certificate, as with `curl --cert`.
 * Anyone who can connect to 127.0.0.1 on this machine can use the app as the bot does.
 */
export async function startLocalAppProxy(options: LocalAppProxyOptions): Promise<LocalAppProxy> {
  const upstream = new UpstreamAgents(options);
  const server = http.createServer((request, response) => {
    const started = Date.now();
    const forwarded = upstream.request(request, (answer) => {
      response.writeHead(answer.statusCode ?? 502, withoutHopByHop(answer.headers));
      pipeline(answer, response, () => {});
      options.logger.debug(`${request.method} ${request.url} → ${answer.statusCode}`, {
        ms: Date.now() - started,
      });
    });
    if (forwarded instanceof Error) return refuse(response, forwarded, options.logger);
    forwarded.on('error', (error) => refuse(response, upstream.explain(error), options.logger));
    pipeline(request, forwarded, () => {});
  });
  server.on('upgrade', (request: IncomingMessage, socket: Socket, head: Buffer) => {
    const forwarded = upstream.request(request, (answer) => {
      // The app did not switch protocols: its answer is the last thing on this connection.
      socket.write(statusHead(answer.statusCode ?? 502, answer.statusMessage, answer.rawHeaders));
      pipeline(answer, socket, () => {});
    });
    if (forwarded instanceof Error) return refuseRaw(socket, forwarded, options.logger);
    forwarded.on('upgrade', (answer: IncomingMessage, appSocket: Socket, appHead: Buffer) => {
      socket.write(statusHead(101, answer.statusMessage, answer.rawHeaders));
      if (appHead.length > 0) socket.write(appHead);
      if (head.length > 0) appSocket.write(head);
      pipeline(appSocket, socket, appSocket, () => {});
    });
    forwarded.on('error', (error) => refuseRaw(socket, upstream.explain(error), options.logger));
    forwarded.end();
  });
  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      upstream.close();
      await closed;
    },
  };
}

/**
 * The HTTPS connections to the app: one keep-alive agent per certificate, replaced when the output's
 * certificate is renewed (connections made with the old one are left to end on their own).
 */
class UpstreamAgents {
  private agent: { serial: string; agent: https.Agent } | undefined;

  constructor(private readonly options: LocalAppProxyOptions) {}

  /** The request to the app for `request`, or why there can be none now. */
  request(
    request: IncomingMessage,
    onResponse: (answer: IncomingMessage) => void,
  ): http.ClientRequest | AppCredentialError {
    let credential: AppCredential;
    try {
      credential = this.options.credentials.current();
    } catch (error) {
      if (error instanceof AppCredentialError) return error;
      throw error;
    }
    const { appUri } = this.options;
    const headers: OutgoingHttpHeaders = { ...withoutHopByHop(request.headers), host: appUri.host };
    if (request.headers.upgrade !== undefined) {
      headers['connection'] = 'Upgrade';
      headers['upgrade'] = request.headers.upgrade;
    }
    const prefix = appUri.pathname.replace(/\/$/, '');
    return https.request(
      {
        protocol: 'https:',
        hostname: appUri.hostname.replace(/^\[|\]$/g, ''),
        port: appUri.port === '' ? 443 : Number(appUri.port),
        method: request.method ?? 'GET',
        path: `${prefix}${request.url ?? '/'}`,
        headers,
        agent: this.agentFor(credential),
      },
      onResponse,
    );
  }

  /** What to tell the client about a failed request to the app. */
  explain(error: Error): AppCredentialError {
    const code = (error as NodeJS.ErrnoException).code ?? '';
    const where = `the app at ${this.options.appUri.origin}`;
    const untrusted = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS_CERT_ALTNAME/.test(code);
    const reason = untrusted
      ? `its server certificate is not trusted (${code}); give the CA that signed it with --app-ca FILE`
      : /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH/.test(code)
        ? `cannot be reached (${code}); check --app-uri`
        : /alert|handshake/i.test(error.message)
          ? `ended the TLS handshake (${error.message}); does it trust the cluster's client CA (\`midctl auth export --type tls-user\`)?`
          : `failed: ${error.message}`;
    return new AppCredentialError('app_unreachable', `${where} ${reason}`, true);
  }

  close(): void {
    this.agent?.agent.destroy();
    this.agent = undefined;
  }

  private agentFor(credential: AppCredential): https.Agent {
    if (this.agent?.serial === credential.serial) return this.agent.agent;
    const previous = this.agent?.agent;
    const { appUri, appCaPem } = this.options;
    const host = appUri.hostname.replace(/^\[|\]$/g, '');
    const agent = new https.Agent({
      keepAlive: true,
      timeout: IDLE_UPSTREAM_MS,
      cert: credential.certPem,
      key: credential.keyPem,
      ...(appCaPem === undefined ? {} : { ca: appCaPem }),
      // SNI carries names only; an IP address is checked against the certificate without it.
      ...(isIP(host) === 0 ? { servername: host } : {}),
      minVersion: 'TLSv1.2',
    });
    this.agent = { serial: credential.serial, agent };
    if (previous !== undefined) {
      this.options.logger.info(
        `Using the renewed certificate for app "${this.options.credentials.appName}"`,
        {
          serial: credential.serial,
          expires_at: credential.expiresAt.toISOString(),
        },
      );
      // Idle connections of the old certificate are closed now; busy ones when they are done.
      for (const sockets of Object.values(previous.freeSockets))
        for (const socket of sockets ?? []) socket.destroy();
      previous.on('free', (socket: Socket) => socket.destroy());
    }
    return agent;
  }
}

function withoutHopByHop(headers: IncomingHttpHeaders): OutgoingHttpHeaders {
  const listed = new Set(
    String(headers.connection ?? '')
      .split(',')
      .map((name) => name.trim().toLowerCase()),
  );
  const kept: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name) && !listed.has(name)) kept[name] = value;
  }
  return kept;
}

/** The head of an HTTP/1.1 answer written straight to a socket (for connection upgrades). */
function statusHead(status: number, message: string | undefined, rawHeaders: readonly string[]): string {
  const lines = [`HTTP/1.1 ${status} ${message ?? http.STATUS_CODES[status] ?? ''}`];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) lines.push(`${rawHeaders[i]}: ${rawHeaders[i + 1]}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}

function refuse(response: http.ServerResponse, error: AppCredentialError, logger: Logger): void {
  // The client went away (its request was cut off with it): nobody to tell.
  if (response.destroyed) return;
  logger.warn(error.message, { code: error.code });
  if (response.headersSent) {
    response.destroy();
    return;
  }
  response.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' });
  response.end(`midbot proxy: ${error.message}\n`);
}

function refuseRaw(socket: Socket, error: AppCredentialError, logger: Logger): void {
  logger.warn(error.message, { code: error.code });
  const body = `midbot proxy: ${error.message}\n`;
  socket.end(
    `HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain; charset=utf-8\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}
