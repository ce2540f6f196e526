import http, { type IncomingHttpHeaders, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import https from 'node:https';
import { isIP, type Socket } from 'node:net';
import { MidError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { type AppCredential, AppCredentialError, type AppCredentialsFolder } from './app-credentials.js';

/** A request that could not be sent on, or got no answer: the status and text the client gets. */
export class UpstreamError extends MidError {
  constructor(
    code: string,
    message: string,
    override readonly httpStatus: number,
  ) {
    super(code, message);
  }
}

export interface AppUpstreamOptions {
  readonly credentials: AppCredentialsFolder;
  readonly appUri: URL;
  readonly appCaPem?: string;
  readonly logger: Logger;
  /** How long a connection to the app may stay silent, either way, before it is given up. */
  readonly idleTimeoutMs: number;
}

/**
 * Headers that describe one connection rather than the request or the answer (RFC 9110 §7.6.1),
 * which a proxy must not pass on; `host` is the app's, set separately.
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
const IDLE_POOLED_MS = 30_000;

/**
 * The app's side of the proxy: requests to it over HTTPS with the certificate of the output's folder,
 * one keep-alive agent per certificate (replaced when `midbot start` renews it; connections of the old
 * one end when their requests do), and what the client gets back.
 */
export class AppUpstream {
  private current: { serial: string; agent: https.Agent } | undefined;
  private readonly prefix: string;
  private readonly host: string;

  constructor(private readonly options: AppUpstreamOptions) {
    this.prefix = options.appUri.pathname.replace(/\/$/, '');
    this.host = options.appUri.hostname.replace(/^\[|\]$/g, '');
  }

  /**
   * The request to the app for `request` (its path, method and end-to-end headers; `upgrade` to ask
   * the app to switch protocols), not yet ended.
   * @throws AppCredentialError when the folder holds no certificate valid now
   */
  request(request: IncomingMessage, upgrade?: string): http.ClientRequest {
    const credential = this.options.credentials.current();
    const headers: OutgoingHttpHeaders = {
      ...withoutHopByHop(request.headers),
      host: this.options.appUri.host,
    };
    if (upgrade !== undefined) {
      headers['connection'] = 'Upgrade';
      headers['upgrade'] = upgrade;
    }
    const forwarded = https.request({
      protocol: 'https:',
      hostname: this.host,
      port: this.options.appUri.port === '' ? 443 : Number(this.options.appUri.port),
      method: request.method ?? 'GET',
      path: `${this.prefix}${request.url ?? '/'}`,
      headers,
      agent: this.agentFor(credential),
    });
    forwarded.setTimeout(this.options.idleTimeoutMs, () =>
      forwarded.destroy(Object.assign(new Error('the app went silent'), { code: 'APP_TIMEOUT' })),
    );
    return forwarded;
  }

  /** The app's answer headers as the client gets them: end-to-end ones, redirects to the app made local. */
  answerHeaders(answer: IncomingMessage, request: IncomingMessage): OutgoingHttpHeaders {
    const headers = withoutHopByHop(answer.headers);
    const location = headers['location'];
    if (typeof location === 'string') headers['location'] = this.localLocation(location, request);
    return headers;
  }

  /** What to tell the client about a request to the app that failed. */
  explain(error: Error, answered: boolean): UpstreamError {
    if (error instanceof AppCredentialError) return new UpstreamError(error.code, error.message, 502);
    const code = (error as NodeJS.ErrnoException).code ?? '';
    const where = `the app at ${this.options.appUri.origin}`;
    if (code === 'APP_TIMEOUT') {
      return new UpstreamError(
        'app_timeout',
        `${where} sent nothing for ${this.options.idleTimeoutMs / 1000} s ${answered ? 'in the middle of its answer' : 'after the request'}; the request was given up`,
        504,
      );
    }
    const reason = /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|ERR_TLS_CERT_ALTNAME/.test(code)
      ? `does not present a server certificate this proxy trusts (${code}): give the CA that signed it with --app-ca FILE${this.options.appCaPem === undefined ? '' : ' (the one given did not)'}`
      : /ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH/.test(code)
        ? `cannot be reached (${code}): check --app-uri`
        : code === 'ECONNRESET' || /alert|handshake|socket hang up/i.test(error.message)
          ? `closed the connection without answering (${code || error.message}): does it trust the cluster's client CA (\`midctl auth export --type tls-user\`), and serve HTTPS at this address?`
          : `failed: ${error.message}`;
    return new UpstreamError('app_unreachable', `${where} ${reason}`, 502);
  }

  close(): void {
    this.current?.agent.destroy();
    this.current = undefined;
  }

  /**
   * A redirect to the app's own address, rewritten to this proxy's (the prefix of --app-uri taken
   * off), so that a browser or `curl -L` stays on the proxy; other redirects are left as they are.
   */
  private localLocation(location: string, request: IncomingMessage): string {
    let target: URL;
    try {
      target = new URL(location, this.options.appUri);
    } catch {
      return location;
    }
    const underPrefix = target.pathname === this.prefix || target.pathname.startsWith(`${this.prefix}/`);
    if (target.origin !== this.options.appUri.origin || !underPrefix) return location;
    const rest = `${target.pathname.slice(this.prefix.length) || '/'}${target.search}${target.hash}`;
    if (location.startsWith('/') && !location.startsWith('//')) return rest;
    return /^[a-z][a-z0-9+.-]*:/i.test(location) ? `http://${request.headers.host}${rest}` : location;
  }

  private agentFor(credential: AppCredential): https.Agent {
    if (this.current?.serial === credential.serial) return this.current.agent;
    const previous = this.current?.agent;
    const agent = new https.Agent({
      keepAlive: true,
      timeout: IDLE_POOLED_MS,
      cert: credential.certPem,
      key: credential.keyPem,
      ...(this.options.appCaPem === undefined ? {} : { ca: this.options.appCaPem }),
      // SNI carries names only; an IP address is checked against the certificate without it.
      ...(isIP(this.host) === 0 ? { servername: this.host } : {}),
      minVersion: 'TLSv1.2',
    });
    this.current = { serial: credential.serial, agent };
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

/** `http.STATUS_CODES` text for a status the app gave none for. */
export function statusText(status: number, given: string | undefined): string {
  return given === undefined || given === '' ? (http.STATUS_CODES[status] ?? '') : given;
}
