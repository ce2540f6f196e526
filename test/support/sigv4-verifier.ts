import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** Long-term or temporary AWS credentials that an emulator accepts. */
export interface SigV4Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  /** When set, the request must carry exactly this `x-amz-security-token`. */
  sessionToken?: string;
}

/** A request as it arrived on the wire. */
export interface SigV4Request {
  method: string;
  /** Path and query exactly as on the request line (`/`, `/?Action=…`). */
  url: string;
  /** Node's `IncomingMessage.rawHeaders`: `[name, value, name, value, …]`, duplicates kept. */
  rawHeaders: readonly string[];
  body: Uint8Array;
}

export interface SigV4VerifyOptions {
  /** The service the credential scope must name, e.g. `sts`. */
  service: string;
  /** The region the credential scope must name; any well-formed region when unset. */
  region?: string;
  /** The verifier's clock, epoch milliseconds. */
  now: number;
  /** How far the request time may be from `now`; AWS allows 15 minutes either way. */
  maxSkewMs?: number;
  lookup(accessKeyId: string): SigV4Credentials | undefined;
}

/**
 * Why a request was refused. Each emulator maps these to its protocol's error codes
 * (query protocol: `SignatureDoesNotMatch`…, JSON protocol: `InvalidSignatureException`…).
 */
export type SigV4FailureKind =
  | 'missing-authentication'
  | 'incomplete-signature'
  | 'signature-mismatch'
  | 'signature-expired'
  | 'unknown-access-key'
  | 'invalid-session-token';

export type SigV4Verdict =
  | {
      ok: true;
      accessKeyId: string;
      region: string;
      signedHeaders: string[];
      credentials: SigV4Credentials;
      canonicalRequest: string;
    }
  | { ok: false; kind: SigV4FailureKind; message: string; canonicalRequest?: string };

const ALGORITHM = 'AWS4-HMAC-SHA256';
const FIFTEEN_MINUTES = 15 * 60 * 1000;
const SIGNATURE_MISMATCH_MESSAGE =
  'The request signature we calculated does not match the signature you provided. ' +
  'Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';
const REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const AMZ_DATE_PATTERN = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

/**
 * Verifies an AWS Signature Version 4 `Authorization` header the way AWS does: the canonical request
 * is rebuilt from what arrived (method, path, query, the signed headers as sent, the SHA-256 of the
 * body actually received; `x-amz-content-sha256` is never trusted), then the string to sign, the
 * signing key and a constant-time comparison. Checks follow AWS's order: header shape, `host` signed,
 * date format, credential scope, clock skew, access key, session token, signature.
 */
export function verifySigV4(request: SigV4Request, options: SigV4VerifyOptions): SigV4Verdict {
  const headers = headerValues(request.rawHeaders);
  const [path, query] = splitUrl(request.url);
  const queryPairs = parseQuery(query);
  const authorization = headers.get('authorization')?.[0];
  if (authorization === undefined) {
    if (queryPairs.some(([key]) => key === 'X-Amz-Algorithm')) {
      return fail(
        'incomplete-signature',
        'Query-string (presigned) authentication is not supported by this emulator.',
      );
    }
    return fail('missing-authentication', 'Request is missing Authentication Token');
  }

  const trimmed = authorization.trim();
  const space = trimmed.indexOf(' ');
  const algorithm = space === -1 ? trimmed : trimmed.slice(0, space);
  if (algorithm !== ALGORITHM) {
    return fail('incomplete-signature', `Unsupported AWS 'algorithm': '${algorithm}'`);
  }
  const parameters = new Map<string, string>();
  for (const part of (space === -1 ? '' : trimmed.slice(space + 1)).split(',')) {
    const item = part.trim();
    if (item === '') continue;
    const eq = item.indexOf('=');
    if (eq === -1) {
      return fail(
        'incomplete-signature',
        `'${item}' not a valid key=value pair (missing equal-sign) in Authorization header`,
      );
    }
    parameters.set(item.slice(0, eq), item.slice(eq + 1));
  }
  const credential = parameters.get('Credential');
  const signature = parameters.get('Signature');
  const signedHeaderList = parameters.get('SignedHeaders');
  const amzDate = headers.get('x-amz-date')?.[0] ?? headers.get('date')?.[0];
  const missing: string[] = [];
  if (credential === undefined) missing.push("Authorization header requires 'Credential' parameter.");
  if (signature === undefined) missing.push("Authorization header requires 'Signature' parameter.");
  if (signedHeaderList === undefined) {
    missing.push("Authorization header requires 'SignedHeaders' parameter.");
  }
  if (amzDate === undefined) {
    missing.push("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.");
  }
  if (
    credential === undefined ||
    signature === undefined ||
    signedHeaderList === undefined ||
    amzDate === undefined
  ) {
    return fail('incomplete-signature', `${missing.join(' ')} Authorization=${ALGORITHM}`);
  }

  const signedHeaders = signedHeaderList
    .split(';')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => name !== '')
    .sort();
  if (!signedHeaders.includes('host') && !signedHeaders.includes(':authority')) {
    return fail(
      'signature-mismatch',
      "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.",
    );
  }

  const requestTime = parseAmzDate(amzDate);
  if (requestTime === undefined) {
    return fail(
      'incomplete-signature',
      `Date must be in ISO-8601 'basic format'. Got '${amzDate}'. See http://en.wikipedia.org/wiki/ISO_8601`,
    );
  }

  const scopeParts = credential.split('/');
  if (scopeParts.length !== 5) {
    return fail(
      'incomplete-signature',
      `Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '${credential}'`,
    );
  }
  const [accessKeyId, scopeDate, scopeRegion, scopeService, terminator] = scopeParts as [
    string,
    string,
    string,
    string,
    string,
  ];
  if (scopeDate !== amzDate.slice(0, 8)) {
    return fail(
      'signature-mismatch',
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${scopeDate}' != '${amzDate.slice(0, 8)}', from '${amzDate}'.`,
    );
  }
  if (options.region !== undefined ? scopeRegion !== options.region : !REGION_PATTERN.test(scopeRegion)) {
    return fail('signature-mismatch', 'Credential should be scoped to a valid region. ');
  }
  if (scopeService !== options.service) {
    return fail(
      'signature-mismatch',
      `Credential should be scoped to correct service: '${options.service}'. `,
    );
  }
  if (terminator !== 'aws4_request') {
    return fail(
      'signature-mismatch',
      `Credential should be scoped with a valid terminator: 'aws4_request', not '${terminator}'. `,
    );
  }

  const maxSkew = options.maxSkewMs ?? FIFTEEN_MINUTES;
  const minutes = Math.round(maxSkew / 60_000);
  if (requestTime < options.now - maxSkew) {
    return fail(
      'signature-expired',
      `Signature expired: ${amzDate} is now earlier than ${formatAmzDate(options.now - maxSkew)} (${formatAmzDate(options.now)} - ${minutes} min.)`,
    );
  }
  if (requestTime > options.now + maxSkew) {
    return fail(
      'signature-expired',
      `Signature not yet current: ${amzDate} is still later than ${formatAmzDate(options.now + maxSkew)} (${formatAmzDate(options.now)} + ${minutes} min.)`,
    );
  }

  const credentials = options.lookup(accessKeyId);
  if (credentials === undefined) {
    return fail('unknown-access-key', 'The security token included in the request is invalid.');
  }
  const sentToken = headers.get('x-amz-security-token')?.[0];
  if (credentials.sessionToken !== undefined || sentToken !== undefined) {
    if (
      credentials.sessionToken === undefined ||
      sentToken === undefined ||
      !constantTimeEqual(sentToken, credentials.sessionToken)
    ) {
      return fail('invalid-session-token', 'The security token included in the request is invalid.');
    }
  }

  const canonicalRequest = [
    request.method,
    canonicalPath(path),
    canonicalQuery(queryPairs),
    ...signedHeaders.flatMap((name) => {
      const values = headers.get(name);
      return values === undefined ? [] : [`${name}:${values.map(canonicalHeaderValue).join(',')}`];
    }),
    '',
    signedHeaders.join(';'),
    createHash('sha256').update(request.body).digest('hex'),
  ].join('\n');
  const scope = `${scopeDate}/${scopeRegion}/${scopeService}/${terminator}`;
  const stringToSign = [
    ALGORITHM,
    amzDate,
    scope,
    createHash('sha256').update(canonicalRequest, 'utf8').digest('hex'),
  ].join('\n');
  let key: Buffer = hmac(`AWS4${credentials.secretAccessKey}`, scopeDate);
  for (const part of [scopeRegion, scopeService, terminator]) key = hmac(key, part);
  const expected = hmac(key, stringToSign).toString('hex');
  if (!constantTimeEqual(signature.toLowerCase(), expected)) {
    return { ok: false, kind: 'signature-mismatch', message: SIGNATURE_MISMATCH_MESSAGE, canonicalRequest };
  }
  return { ok: true, accessKeyId, region: scopeRegion, signedHeaders, credentials, canonicalRequest };
}

/**
 * Header names lowercased, each with its values in arrival order (duplicates kept, which Node's
 * `req.headers` would merge or drop).
 */
export function headerValues(rawHeaders: readonly string[]): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] as string).toLowerCase();
    const list = map.get(name);
    if (list === undefined) map.set(name, [rawHeaders[i + 1] as string]);
    else list.push(rawHeaders[i + 1] as string);
  }
  return map;
}

/** `headerValues` flattened for recording: duplicate values joined with a comma, as SigV4 does. */
export function recordedHeaders(rawHeaders: readonly string[]): Record<string, string> {
  const record: Record<string, string> = {};
  for (const [name, values] of headerValues(rawHeaders)) record[name] = values.join(',');
  return record;
}

/** `20240102T030405Z` for an epoch-millisecond instant. */
export function formatAmzDate(epochMs: number): string {
  return new Date(epochMs)
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}/, '');
}

function fail(kind: SigV4FailureKind, message: string): SigV4Verdict {
  return { ok: false, kind, message };
}

function parseAmzDate(value: string): number | undefined {
  const match = AMZ_DATE_PATTERN.exec(value);
  if (match === null) return undefined;
  const [, y, mo, d, h, mi, s] = match.map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const time = Date.UTC(y, mo - 1, d, h, mi, s);
  return formatAmzDate(time) === value ? time : undefined;
}

function splitUrl(url: string): [string, string] {
  const q = url.indexOf('?');
  return q === -1 ? [url, ''] : [url.slice(0, q), url.slice(q + 1)];
}

function parseQuery(query: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const item of query.split('&')) {
    if (item === '') continue;
    const eq = item.indexOf('=');
    const key = eq === -1 ? item : item.slice(0, eq);
    const value = eq === -1 ? '' : item.slice(eq + 1);
    pairs.push([safeDecode(key), safeDecode(value)]);
  }
  return pairs;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

/** RFC 3986 encoding as SigV4 requires: everything but `A-Za-z0-9-._~`. */
function uriEscape(value: string): string {
  return encodeURIComponent(value).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function canonicalPath(path: string): string {
  // Non-S3 services: normalise the path, then encode the (already encoded) wire path once more.
  const segments: string[] = [];
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  const trailing = segments.length > 0 && path.endsWith('/') ? '/' : '';
  const normalised = `/${segments.join('/')}${trailing}`;
  return uriEscape(normalised).replace(/%2F/g, '/');
}

function canonicalQuery(pairs: Array<[string, string]>): string {
  return pairs
    .filter(([key]) => key !== 'X-Amz-Signature')
    .map(([key, value]) => [uriEscape(key), uriEscape(value)] as const)
    .sort(([ka, va], [kb, vb]) => (ka < kb ? -1 : ka > kb ? 1 : va < vb ? -1 : va > vb ? 1 : 0))
    .map(([key, value]) => `${key}=${value}`)
    .join('&');
}

function canonicalHeaderValue(value: string): string {
  return value.trim().replace(/\s+/g, ' ');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}

function constantTimeEqual(a: string, b: string): boolean {
  const left = createHash('sha256').update(a, 'utf8').digest();
  const right = createHash('sha256').update(b, 'utf8').digest();
  // Hashing first gives equal lengths, so the comparison time does not depend on the secret.
  return timingSafeEqual(left, right);
}
