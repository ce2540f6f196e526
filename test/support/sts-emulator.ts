import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { readBody, startLoopbackServer } from './loopback-server.js';
import { recordedHeaders, type SigV4FailureKind, verifySigV4 } from './sigv4-verifier.js';

/** A principal the emulator knows: the keys it signs with and what GetCallerIdentity answers. */
export interface StsIdentity {
  accessKeyId: string;
  secretAccessKey: string;
  /** When set, requests must carry exactly this `x-amz-security-token` (temporary credentials). */
  sessionToken?: string;
  arn: string;
  account: string;
  userId: string;
}

/**
 * A misbehaviour to inject. The emulator answers with it instead of the real answer (`delay` waits,
 * then answers normally). `times` limits it to the next N requests; without it, it stays until cleared.
 */
export type StsFault = (
  | { kind: 'status'; status: number; body?: string; contentType?: string }
  | { kind: 'delay'; ms: number }
  | { kind: 'redirect'; location: string; status?: 301 | 302 | 303 | 307 | 308 }
  /** A 200 `text/xml` success answer padded (inside an XML comment) to exactly `bytes` bytes. */
  | { kind: 'oversized'; bytes: number }
  /** A 200 success answer whose body is right but whose content type is not (default `text/html`). */
  /** A valid identity under another content type; `null` sends none. */
  | { kind: 'wrong-content-type'; contentType?: string | null }
  | { kind: 'raw'; status: number; contentType: string; body: string; headers?: Record<string, string> }
) & { times?: number };

/** One request as the emulator received it, and how it answered. */
export interface ReceivedRequest {
  method: string;
  /** Path and query as on the request line. */
  url: string;
  /** Lowercased names; repeated headers joined with `,`. */
  headers: Record<string, string>;
  /** As received: `[name, value, …]` with the sender's case and duplicates. */
  rawHeaders: string[];
  body: string;
  /** Emulator clock when the request arrived, epoch ms. */
  receivedAt: number;
  /** Filled in when the answer is sent. */
  response?: { status: number; errorCode?: string; fault?: StsFault['kind'] };
  /** The canonical request the emulator rebuilt, for debugging a signature mismatch. */
  canonicalRequest?: string;
}

export interface StsEmulatorOptions {
  identities: StsIdentity[];
  /** Emulator clock, epoch ms (default `Date.now`). Move it to test clock skew. */
  clock?: () => number;
  /** When set, the credential scope must name this region; otherwise any well-formed region. */
  region?: string;
}

export interface StsEmulator {
  /** `http://127.0.0.1:PORT`; use as the SDK `endpoint` or send there with the real STS `host` header. */
  url: string;
  port: number;
  requests: ReceivedRequest[];
  setFault(fault: StsFault | undefined): void;
  stop(): Promise<void>;
}

const XML_NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';
const API_VERSION = '2011-06-15';
const MAX_BODY_BYTES = 1024 * 1024;

const FAILURE_CODES: Record<SigV4FailureKind, { code: string; status: number }> = {
  'missing-authentication': { code: 'MissingAuthenticationToken', status: 403 },
  'incomplete-signature': { code: 'IncompleteSignature', status: 400 },
  'signature-mismatch': { code: 'SignatureDoesNotMatch', status: 403 },
  'signature-expired': { code: 'SignatureDoesNotMatch', status: 403 },
  'unknown-access-key': { code: 'InvalidClientTokenId', status: 403 },
  'invalid-session-token': { code: 'InvalidClientTokenId', status: 403 },
};

/**
 * Starts a local AWS STS endpoint that answers `GetCallerIdentity` (query protocol, `POST /` with a
 * form body or `GET /?Action=…`) after really verifying the SigV4 signature against the identities
 * it was given. The signature is checked against the `host` header as sent, so a request signed
 * for `sts.us-east-1.amazonaws.com` verifies when delivered here with that `host` header.
 *
 * Answers like AWS: `text/xml` `GetCallerIdentityResponse` / `ErrorResponse`, or the JSON form when
 * the request has `Accept: application/json`; a `Date` header from the emulator clock (the SDK uses it
 * to correct clock skew); `x-amzn-RequestId`.
 *
 * @example
 * const sts = await startStsEmulator({ identities: [alice] });
 * const client = new STSClient({ region: 'us-east-1', endpoint: sts.url, credentials: alice });
 * await client.send(new GetCallerIdentityCommand({}));
 */
export async function startStsEmulator(options: StsEmulatorOptions): Promise<StsEmulator> {
  const clock = options.clock ?? Date.now;
  const identities = new Map(options.identities.map((identity) => [identity.accessKeyId, identity]));
  const requests: ReceivedRequest[] = [];
  let fault: StsFault | undefined;
  let faultUsesLeft = Number.POSITIVE_INFINITY;

  const takeFault = (): StsFault | undefined => {
    if (fault === undefined) return undefined;
    const current = fault;
    faultUsesLeft -= 1;
    if (faultUsesLeft <= 0) fault = undefined;
    return current;
  };

  const server = await startLoopbackServer(async (req, res) => {
    const body = await readBody(req, MAX_BODY_BYTES);
    const record: ReceivedRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: recordedHeaders(req.rawHeaders),
      rawHeaders: [...req.rawHeaders],
      body: body.toString('utf8'),
      receivedAt: clock(),
    };
    requests.push(record);
    const json = (record.headers['accept'] ?? '').toLowerCase().includes('application/json');

    const send = (status: number, contentType: string | undefined, payload: string, extra = {}) => {
      if (res.destroyed) return;
      const headers: Record<string, string | number> = {
        'x-amzn-RequestId': randomUUID(),
        date: new Date(clock()).toUTCString(),
        'content-length': Buffer.byteLength(payload),
        ...extra,
      };
      if (contentType !== undefined) headers['content-type'] = contentType;
      res.writeHead(status, headers);
      res.end(payload);
    };
    const sendError = (status: number, code: string, message: string, type = 'Sender') => {
      record.response = { ...record.response, status, errorCode: code };
      const [contentType, payload] = renderError(json, type, code, message);
      send(status, contentType, payload);
    };

    const injected = takeFault();
    if (injected !== undefined && injected.kind !== 'delay') {
      record.response = { status: 0, fault: injected.kind };
      answerWithFault(injected, record, send);
      return;
    }
    if (injected?.kind === 'delay') {
      record.response = { status: 0, fault: 'delay' };
      if (!(await server.sleep(injected.ms))) return;
    }

    const verdict = verifySigV4(
      { method: record.method, url: record.url, rawHeaders: req.rawHeaders, body },
      {
        service: 'sts',
        now: clock(),
        lookup: (accessKeyId) => identities.get(accessKeyId),
        ...(options.region !== undefined ? { region: options.region } : {}),
      },
    );
    if (verdict.canonicalRequest !== undefined) record.canonicalRequest = verdict.canonicalRequest;
    if (!verdict.ok) {
      const { code, status } = FAILURE_CODES[verdict.kind];
      sendError(status, code, verdict.message);
      return;
    }

    const params = requestParameters(req, record.url, record.body);
    if (record.method !== 'POST' && record.method !== 'GET') {
      sendError(400, 'InvalidAction', `Could not find operation for HTTP method ${record.method}`);
      return;
    }
    const action = params.get('Action');
    if (action === undefined) {
      sendError(400, 'MissingAction', 'Missing Action');
      return;
    }
    if (action !== 'GetCallerIdentity' || params.get('Version') !== API_VERSION) {
      sendError(
        400,
        'InvalidAction',
        `Could not find operation ${action} for version ${params.get('Version') ?? 'NO_VERSION_SPECIFIED'}`,
      );
      return;
    }
    const identity = identities.get(verdict.accessKeyId) as StsIdentity;
    record.response = { ...record.response, status: 200 };
    const [contentType, payload] = renderIdentity(json, identity, randomUUID());
    send(200, contentType, payload);
  });

  function answerWithFault(
    injected: Exclude<StsFault, { kind: 'delay' }>,
    record: ReceivedRequest,
    send: (status: number, contentType: string | undefined, payload: string, extra?: object) => void,
  ): void {
    const someone = options.identities[0] ?? {
      arn: 'arn:aws:iam::000000000000:user/emulator',
      account: '000000000000',
      userId: 'AIDAEMULATOR',
    };
    const respond = (status: number, contentType: string | undefined, payload: string, extra = {}) => {
      record.response = { status, fault: injected.kind };
      send(status, contentType, payload, extra);
    };
    switch (injected.kind) {
      case 'status': {
        const receiver = injected.status >= 500;
        const [code, message] =
          injected.status === 503
            ? ['ServiceUnavailable', 'Service is unable to handle request.']
            : receiver
              ? ['InternalFailure', 'An internal error occurred.']
              : ['Throttling', 'Rate exceeded'];
        const [defaultType, defaultBody] = renderError(
          false,
          receiver ? 'Receiver' : 'Sender',
          code,
          message,
        );
        respond(injected.status, injected.contentType ?? defaultType, injected.body ?? defaultBody);
        return;
      }
      case 'redirect':
        respond(injected.status ?? 307, undefined, '', { location: injected.location });
        return;
      case 'oversized': {
        const [, base] = renderIdentity(false, someone, randomUUID());
        const head = base.slice(0, base.lastIndexOf('</GetCallerIdentityResponse>'));
        const tail = '</GetCallerIdentityResponse>\n';
        const fill = Math.max(0, injected.bytes - Buffer.byteLength(head + tail) - '<!---->'.length);
        respond(200, 'text/xml', `${head}<!--${'x'.repeat(fill)}-->${tail}`);
        return;
      }
      case 'wrong-content-type': {
        const [, payload] = renderIdentity(false, someone, randomUUID());
        respond(
          200,
          injected.contentType === null ? undefined : (injected.contentType ?? 'text/html; charset=utf-8'),
          payload,
        );
        return;
      }
      case 'raw':
        respond(injected.status, injected.contentType, injected.body, injected.headers ?? {});
        return;
    }
  }

  return {
    url: server.url,
    port: server.port,
    requests,
    setFault(next) {
      fault = next;
      faultUsesLeft = next?.times ?? Number.POSITIVE_INFINITY;
    },
    stop: () => server.stop(),
  };
}

/** Query-protocol parameters: the query string, then a form body (as AWS reads them). */
function requestParameters(req: IncomingMessage, url: string, body: string): URLSearchParams {
  const params = new URLSearchParams(url.includes('?') ? url.slice(url.indexOf('?') + 1) : '');
  const contentType = (req.headers['content-type'] ?? '').toLowerCase();
  if (contentType.startsWith('application/x-www-form-urlencoded')) {
    for (const [key, value] of new URLSearchParams(body)) params.append(key, value);
  }
  return params;
}

function renderIdentity(
  json: boolean,
  identity: Pick<StsIdentity, 'arn' | 'account' | 'userId'>,
  requestId: string,
) {
  if (json) {
    const payload = {
      GetCallerIdentityResponse: {
        GetCallerIdentityResult: { Account: identity.account, Arn: identity.arn, UserId: identity.userId },
        ResponseMetadata: { RequestId: requestId },
      },
    };
    return ['application/json', JSON.stringify(payload)] as const;
  }
  const xml =
    `<GetCallerIdentityResponse xmlns="${XML_NAMESPACE}">\n` +
    '  <GetCallerIdentityResult>\n' +
    `    <Arn>${escapeXml(identity.arn)}</Arn>\n` +
    `    <UserId>${escapeXml(identity.userId)}</UserId>\n` +
    `    <Account>${escapeXml(identity.account)}</Account>\n` +
    '  </GetCallerIdentityResult>\n' +
    '  <ResponseMetadata>\n' +
    `    <RequestId>${requestId}</RequestId>\n` +
    '  </ResponseMetadata>\n' +
    '</GetCallerIdentityResponse>\n';
  return ['text/xml', xml] as const;
}

function renderError(json: boolean, type: string, code: string, message: string) {
  const requestId = randomUUID();
  if (json) {
    return [
      'application/json',
      JSON.stringify({ Error: { Code: code, Message: message, Type: type }, RequestId: requestId }),
    ] as const;
  }
  const xml =
    `<ErrorResponse xmlns="${XML_NAMESPACE}">\n` +
    '  <Error>\n' +
    `    <Type>${escapeXml(type)}</Type>\n` +
    `    <Code>${escapeXml(code)}</Code>\n` +
    `    <Message>${escapeXml(message)}</Message>\n` +
    '  </Error>\n' +
    `  <RequestId>${requestId}</RequestId>\n` +
    '</ErrorResponse>\n';
  return ['text/xml', xml] as const;
}

const XML_ENTITIES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

function escapeXml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => XML_ENTITIES[c] ?? c);
}
