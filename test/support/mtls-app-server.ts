import { once } from 'node:events';
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { PeerCertificate, TLSSocket } from 'node:tls';
import { createOpensslCa, type OpensslCa } from './openssl-ca.js';

export interface StartMtlsAppServerOptions {
  readonly serverCertPem: string;
  readonly serverKeyPem: string;
  /** CA bundle that client certificates must chain to; a handshake without such a certificate fails. */
  readonly clientCaPem: string;
  /** The `app` field of the answer. @default 'test-app' */
  readonly appName?: string;
  /** If set, the client certificate's subject CN must equal this, or the answer is 403. @default any CN */
  readonly expectedCommonName?: string;
  /**
   * Decides whether a verified client certificate may use this app (the caller knows how the app identity is
   * encoded); `false` answers 403. Runs after the `expectedCommonName` check. @default every verified client
   */
  readonly authorize?: (certificate: PeerCertificate, request: IncomingMessage) => boolean;
}

/** Subject attributes as Node reports them: a string, or an array when the attribute repeats. */
export type CertificateSubject = Readonly<Record<string, string | readonly string[]>>;

export interface MtlsAppRequest {
  readonly method: string;
  readonly path: string;
  readonly host: string | undefined;
  readonly headers: IncomingHttpHeaders;
  /** The request body as text. */
  readonly body: string;
  readonly subject: CertificateSubject;
  readonly status: number;
}

/** The JSON body of a 200 answer. */
export interface MtlsAppAnswer {
  readonly ok: true;
  readonly app: string;
  readonly subject: CertificateSubject;
  readonly issuer: CertificateSubject;
  readonly subjectAltName: string | null;
  readonly serialNumber: string;
}

export interface MtlsAppServer {
  readonly url: string;
  readonly port: number;
  /** Every request that got past the TLS handshake, in order. */
  readonly requests: readonly MtlsAppRequest[];
  /** Connections open now, kept-alive ones included. */
  connections(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * An HTTPS app on 127.0.0.1 (a free port) that only talks to clients presenting a certificate issued by
 * `clientCaPem` (`requestCert` + `rejectUnauthorized`), and answers any path with JSON naming the client's
 * certificate subject, or 403 when `expectedCommonName` / `authorize` refuse it. A request to upgrade
 * the connection to `echo` is switched and then sends back what it receives. For proxies' tests, an
 * allowed request (or upgrade) for `/hang` is never answered and one for `/redirect?to=URL` is answered 302 to URL.
 * Logs nothing.
 *
 * @example
 * const app = await startMtlsAppServer({ serverCertPem, serverKeyPem, clientCaPem, appName: 'billing' });
 * // curl --cacert ca.pem --cert client.pem --key client.key "$url"  →  {"ok":true,"app":"billing",…}
 */
export async function startMtlsAppServer(options: StartMtlsAppServerOptions): Promise<MtlsAppServer> {
  const app = options.appName ?? 'test-app';
  const requests: MtlsAppRequest[] = [];
  const server = https.createServer(
    {
      cert: options.serverCertPem,
      key: options.serverKeyPem,
      ca: options.clientCaPem,
      requestCert: true,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
    },
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const certificate = (req.socket as TLSSocket).getPeerCertificate();
        const subject = plainSubject(certificate.subject);
        const allowed =
          (options.expectedCommonName === undefined || subject['CN'] === options.expectedCommonName) &&
          (options.authorize?.(certificate, req) ?? true);
        const status = allowed ? 200 : 403;
        requests.push({
          method: req.method ?? 'GET',
          path: req.url ?? '/',
          host: req.headers.host,
          headers: req.headers,
          body: Buffer.concat(chunks).toString('utf8'),
          subject,
          status,
        });
        const body = allowed
          ? ({
              ok: true,
              app,
              subject,
              issuer: plainSubject(certificate.issuer),
              subjectAltName: certificate.subjectaltname ?? null,
              serialNumber: certificate.serialNumber,
            } satisfies MtlsAppAnswer)
          : { ok: false, app, error: 'this client certificate is not allowed to use this app' };
        const url = new URL(req.url ?? '/', 'https://app.invalid');
        if (allowed && url.pathname.endsWith('/hang')) return;
        if (allowed && url.pathname.endsWith('/redirect')) {
          res.writeHead(302, { location: url.searchParams.get('to') ?? '/' });
          res.end();
          return;
        }
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(`${JSON.stringify(body)}\n`);
      });
    },
  );
  server.on('upgrade', (req: IncomingMessage, socket: TLSSocket, head: Buffer) => {
    if (req.url?.endsWith('/hang')) return;
    if (req.headers.upgrade !== 'echo') {
      socket.end('HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n');
      return;
    }
    socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n');
    if (head.length > 0) socket.write(head);
    socket.pipe(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  let stopped: Promise<void> | undefined;
  return {
    url: `https://127.0.0.1:${port}/`,
    port,
    requests,
    connections: () =>
      new Promise((resolve, reject) =>
        server.getConnections((error, count) => (error ? reject(error) : resolve(count))),
      ),
    stop: () => {
      stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopped;
    },
  };
}

/** Node hands subjects out as null-prototype objects; copy into a plain one so they serialise and compare. */
function plainSubject(subject: PeerCertificate['subject'] | undefined): CertificateSubject {
  return Object.fromEntries(Object.entries(subject ?? {})) as CertificateSubject;
}

/**
 * {@link startMtlsAppServer} serving a certificate for 127.0.0.1 from a CA of its own, made in `dir`
 * (clients pass `servicesCa.certPem` or `certPath` to trust it, as `curl --cacert`).
 */
export async function startMtlsAppWithOwnCa(
  dir: string,
  options: Omit<StartMtlsAppServerOptions, 'serverCertPem' | 'serverKeyPem'>,
): Promise<{ app: MtlsAppServer; servicesCa: OpensslCa }> {
  const servicesCa = await createOpensslCa(dir, 'Services CA');
  const serving = await servicesCa.issue({
    commonName: 'localhost',
    usage: 'server',
    ipAddresses: ['127.0.0.1'],
  });
  const app = await startMtlsAppServer({
    ...options,
    serverCertPem: serving.certPem,
    serverKeyPem: serving.keyPem,
  });
  return { app, servicesCa };
}
