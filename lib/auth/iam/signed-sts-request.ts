import { createHash } from 'node:crypto';
import type { SignedStsRequest } from '../../api/join.js';
import { IamJoinError } from './iam-join-error.js';
import { parseSigV4Authorization, SigV4AuthorizationError } from './sigv4-authorization.js';
import { allowedStsHost, type StsEndpoint } from './sts-host-allowlist.js';

/** The only request the server will ever send to STS carries exactly this body. */
export const GET_CALLER_IDENTITY_BODY = 'Action=GetCallerIdentity&Version=2011-06-15';

/** The signed header that carries the single-use challenge. */
export const CHALLENGE_HEADER = 'x-mid-challenge';
/** The signed header that carries the name of the cluster the request is meant for (audience). */
export const CLUSTER_NAME_HEADER = 'x-mid-cluster-name';

/**
 * Headers a signed GetCallerIdentity request may carry. Anything else (hop-by-hop and forwarding
 * headers, `expect`, method overrides...) is refused, not dropped: an unexpected header means the
 * request was not made by our agent, and the default answer to the unexpected is no.
 */
const ALLOWED_HEADERS = new Set([
  'host',
  'x-amz-date',
  'x-amz-security-token',
  'authorization',
  'content-type',
  'content-length',
  'x-mid-challenge',
  'x-mid-cluster-name',
  'x-amz-content-sha256',
  'user-agent',
]);

/** Named in the refusal so the operator sees at once that a proxy or a hand-made request was involved. */
const HOP_BY_HOP_OR_FORWARDING = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authorization',
  'proxy-authenticate',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'expect',
  'forwarded',
  'via',
  'x-real-ip',
]);

/** What the form-encoded body may be declared as (the SDKs send the first). */
const CONTENT_TYPES = new Set([
  'application/x-www-form-urlencoded; charset=utf-8',
  'application/x-www-form-urlencoded',
]);

const HEADER_NAME = /^[A-Za-z0-9-]{1,128}$/;
/** Visible ASCII and space only: no CR/LF (header injection), no bytes Node would refuse to send. */
const HEADER_VALUE = /^[\u0020-\u007e]*$/;
const AMZ_DATE = /^\d{8}T\d{6}Z$/;

/** A signed request that passed every check, reduced to what the server will send itself. */
export interface ValidatedStsRequest {
  readonly endpoint: StsEndpoint;
  readonly challenge: string;
  /** Lower-case names with the values exactly as signed, in the order sent; `content-length` is ours. */
  readonly headers: ReadonlyArray<readonly [string, string]>;
  readonly body: typeof GET_CALLER_IDENTITY_BODY;
}

export interface ValidateOptions {
  /** This cluster's name: the signed audience header must equal it. */
  readonly clusterName: string;
  /** Refuse endpoints that are not FIPS validated. */
  readonly requireFips?: boolean;
}

function malformed(message: string): IamJoinError {
  return new IamJoinError(
    'sts_request_malformed',
    `the signed STS request was refused: ${message}. Sign POST https://sts.<region>.amazonaws.com/ with body ${GET_CALLER_IDENTITY_BODY} (the agent does this for you)`,
  );
}

function hostRefused(reason: string): IamJoinError {
  return new IamJoinError('sts_host_not_allowed', `the signed STS request was refused: ${reason}`);
}

/** Short, printable rendering of a client value for a message (never used for secrets). */
function shown(value: string): string {
  const printable = value.replace(/[^\u0020-\u007e]/g, '?');
  return JSON.stringify(printable.length > 64 ? `${printable.slice(0, 61)}...` : printable);
}

/**
 * Parses the URL by hand instead of with WHATWG `URL`, which would quietly normalise what the client
 * sent (default ports dropped, `0x7f.1` turned into `127.0.0.1`, percent-decoding): the check must see
 * the text as signed, and anything but the canonical shape is refused.
 */
function parseUrl(url: string, requireFips: boolean): StsEndpoint {
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(url)?.[1];
  if (scheme !== 'https') {
    throw malformed(
      scheme === undefined
        ? `the URL ${shown(url)} is not an absolute https URL`
        : `the URL scheme is ${shown(scheme)}; only https is accepted`,
    );
  }
  const rest = url.slice('https://'.length);
  const authorityEnd = rest.search(/[/?#\\]/);
  const authority = authorityEnd === -1 ? rest : rest.slice(0, authorityEnd);
  const tail = authorityEnd === -1 ? '' : rest.slice(authorityEnd);
  if (authority.includes('@')) throw hostRefused('the URL carries user information (user@host)');
  let host = authority;
  let port: string | undefined;
  if (authority.startsWith('[')) {
    const close = authority.indexOf(']');
    host = close === -1 ? authority : authority.slice(0, close + 1);
    const after = close === -1 ? '' : authority.slice(close + 1);
    if (after !== '') port = after.startsWith(':') ? after.slice(1) : after;
  } else if (authority.includes(':')) {
    port = authority.slice(authority.lastIndexOf(':') + 1);
    host = authority.slice(0, authority.lastIndexOf(':'));
  }
  if (port !== undefined && port !== '443') {
    throw hostRefused(`the URL names port ${shown(port)}; STS is only reached on 443`);
  }
  const verdict = allowedStsHost(host, { requireFips });
  if (!verdict.ok) throw hostRefused(verdict.reason);
  if (tail.includes('?')) {
    throw malformed(
      /x-amz-/i.test(tail)
        ? 'the URL is a presigned URL (X-Amz-* query parameters); sign the Authorization header instead'
        : 'the URL has a query string; GetCallerIdentity is sent as a form body',
    );
  }
  if (tail !== '/') throw malformed(`the URL path is ${shown(tail)}, expected exactly "/"`);
  return verdict.endpoint;
}

/**
 * Checks every part of a client's signed GetCallerIdentity request before anything goes over the
 * network (SECURITY rules 1, 2, 4): method, URL and host, body, each header, the SigV4 scope and
 * which headers the signature covers, and the audience. Returns what the server will send itself;
 * the client's request is never forwarded as is.
 */
export function validateSignedStsRequest(
  request: SignedStsRequest,
  options: ValidateOptions,
): ValidatedStsRequest {
  if (request.method !== 'POST') throw malformed(`the method is ${shown(request.method)}, expected POST`);
  const endpoint = parseUrl(request.url, options.requireFips === true);
  if (request.body !== GET_CALLER_IDENTITY_BODY) {
    throw malformed(`the body must be exactly ${GET_CALLER_IDENTITY_BODY} (no other action or parameter)`);
  }

  const headers = new Map<string, string>();
  const order: string[] = [];
  for (const [rawName, value] of request.headers) {
    if (!HEADER_NAME.test(rawName)) throw malformed(`the header name ${shown(rawName)} is not a token`);
    const name = rawName.toLowerCase();
    if (HOP_BY_HOP_OR_FORWARDING.has(name) || name.startsWith('x-forwarded-')) {
      throw malformed(`the hop-by-hop or forwarding header "${name}" is not allowed`);
    }
    if (!ALLOWED_HEADERS.has(name)) throw malformed(`the header "${name}" is not allowed`);
    if (headers.has(name)) throw malformed(`the header "${name}" appears more than once`);
    if (!HEADER_VALUE.test(value)) {
      throw malformed(`the header "${name}" contains control or non-ASCII characters`);
    }
    headers.set(name, value);
    order.push(name);
  }

  const hostHeader = headers.get('host');
  if (hostHeader !== endpoint.host) {
    throw malformed(
      hostHeader === undefined
        ? 'the host header is missing'
        : `the host header ${shown(hostHeader)} differs from the URL host "${endpoint.host}"`,
    );
  }
  const contentType = headers.get('content-type');
  if (contentType === undefined || !CONTENT_TYPES.has(contentType.toLowerCase())) {
    throw malformed('the content-type must be application/x-www-form-urlencoded; charset=utf-8');
  }
  const contentLength = headers.get('content-length');
  if (contentLength !== undefined && contentLength !== String(Buffer.byteLength(request.body))) {
    throw malformed('the content-length does not match the body');
  }
  const payloadHash = headers.get('x-amz-content-sha256');
  if (payloadHash !== undefined && payloadHash !== createHash('sha256').update(request.body).digest('hex')) {
    throw malformed('x-amz-content-sha256 is not the SHA-256 of the body');
  }
  const amzDate = headers.get('x-amz-date');
  if (amzDate === undefined || !AMZ_DATE.test(amzDate)) {
    throw malformed('x-amz-date must be present as YYYYMMDDTHHMMSSZ');
  }

  const authorizationHeader = headers.get('authorization');
  if (authorizationHeader === undefined) throw malformed('the Authorization header is missing');
  let authorization: ReturnType<typeof parseSigV4Authorization>;
  try {
    authorization = parseSigV4Authorization(authorizationHeader);
  } catch (error) {
    if (error instanceof SigV4AuthorizationError) throw malformed(error.message);
    throw error;
  }
  if (authorization.scopeService !== 'sts') {
    throw malformed(`the credential is scoped to service ${shown(authorization.scopeService)}, not sts`);
  }
  if (authorization.scopeRegion !== endpoint.region) {
    throw malformed(
      `the credential is scoped to region ${shown(authorization.scopeRegion)} but ${endpoint.host} is in ${endpoint.region}; sign with the endpoint's region`,
    );
  }
  if (authorization.scopeDate !== amzDate.slice(0, 8)) {
    throw malformed('the credential scope date differs from x-amz-date');
  }
  const signed = new Set(authorization.signedHeaders);

  const challenge = headers.get(CHALLENGE_HEADER);
  if (challenge === undefined) {
    throw new IamJoinError(
      'challenge_missing',
      `the signed STS request has no ${CHALLENGE_HEADER} header; get one from POST /v1/join/challenge and sign it`,
    );
  }
  if (!signed.has(CHALLENGE_HEADER)) {
    throw new IamJoinError(
      'challenge_not_signed',
      `the ${CHALLENGE_HEADER} header is not covered by the signature (SignedHeaders); an unsigned challenge proves nothing`,
    );
  }
  const audience = headers.get(CLUSTER_NAME_HEADER);
  if (audience === undefined) {
    throw new IamJoinError(
      'audience_missing',
      `the signed STS request has no ${CLUSTER_NAME_HEADER} header naming this cluster ("${options.clusterName}")`,
    );
  }
  if (!signed.has(CLUSTER_NAME_HEADER)) {
    throw new IamJoinError(
      'audience_not_signed',
      `the ${CLUSTER_NAME_HEADER} header is not covered by the signature (SignedHeaders)`,
    );
  }
  if (audience !== options.clusterName) {
    throw new IamJoinError(
      'audience_mismatch',
      `the request was signed for cluster ${shown(audience)}, but this is "${options.clusterName}"; point the bot at the right auth service`,
    );
  }

  for (const name of authorization.signedHeaders) {
    if (name === 'authorization' || !headers.has(name)) {
      throw malformed(`SignedHeaders names "${name}", which the request does not carry`);
    }
  }
  const mustBeSigned = [
    'host',
    'x-amz-date',
    ...(headers.has('x-amz-security-token') ? ['x-amz-security-token'] : []),
  ];
  for (const name of mustBeSigned) {
    if (!signed.has(name)) throw malformed(`the "${name}" header must be covered by the signature`);
  }

  // Rebuild: only allowlisted headers, values as signed; an unsigned user-agent is ours to drop, and
  // content-length is computed by the sender from the exact body.
  const outbound = order
    .filter((name) => name !== 'content-length' && (name !== 'user-agent' || signed.has(name)))
    .map((name) => [name, headers.get(name) as string] as const);
  return { endpoint, challenge, headers: outbound, body: GET_CALLER_IDENTITY_BODY };
}
