/** The parts of an `Authorization: AWS4-HMAC-SHA256 …` header that the server checks. */
export interface SigV4Authorization {
  readonly accessKeyId: string;
  /** `YYYYMMDD` of the credential scope. */
  readonly scopeDate: string;
  readonly scopeRegion: string;
  readonly scopeService: string;
  /** Lower-case names, in the (sorted, unique) order the signature covers them. */
  readonly signedHeaders: readonly string[];
}

/** Thrown with a reason an operator can read; the caller turns it into a JoinError. */
export class SigV4AuthorizationError extends Error {}

const ALGORITHM = 'AWS4-HMAC-SHA256';
const ACCESS_KEY_ID = /^[A-Z0-9]{16,128}$/;
const SCOPE_DATE = /^\d{8}$/;
const SCOPE_REGION = /^[a-z0-9-]{1,32}$/;
const HEADER_NAME = /^[a-z0-9-]{1,128}$/;
const SIGNATURE = /^[0-9a-f]{64}$/;

/**
 * Parses a SigV4 `Authorization` header strictly: exactly the `AWS4-HMAC-SHA256` scheme (SigV2,
 * SigV4a and anything else are refused), exactly the three parameters once each, a five-part credential
 * scope ending in `aws4_request`, a sorted list of unique signed header names, a 64-hex signature.
 * The signature itself is checked by STS, not here: the server never holds the caller's secret.
 */
export function parseSigV4Authorization(value: string): SigV4Authorization {
  if (!value.startsWith(`${ALGORITHM} `)) {
    const scheme = /^[A-Za-z0-9-]{1,32}/.exec(value)?.[0] ?? '';
    throw new SigV4AuthorizationError(
      `the Authorization scheme is ${scheme === '' ? 'missing' : JSON.stringify(scheme)}; only SigV4 (${ALGORITHM}) in the Authorization header is accepted`,
    );
  }
  const parameters = new Map<string, string>();
  for (const part of value.slice(ALGORITHM.length + 1).split(',')) {
    const item = part.trim();
    const eq = item.indexOf('=');
    if (eq <= 0) throw new SigV4AuthorizationError(`the Authorization header has a malformed part`);
    const key = item.slice(0, eq);
    if (!['Credential', 'SignedHeaders', 'Signature'].includes(key)) {
      throw new SigV4AuthorizationError(
        `the Authorization header has an unexpected parameter "${key.slice(0, 32)}"`,
      );
    }
    if (parameters.has(key)) throw new SigV4AuthorizationError(`the Authorization header repeats ${key}`);
    parameters.set(key, item.slice(eq + 1));
  }
  const credential = parameters.get('Credential');
  const signedHeaderList = parameters.get('SignedHeaders');
  const signature = parameters.get('Signature');
  if (credential === undefined || signedHeaderList === undefined || signature === undefined) {
    throw new SigV4AuthorizationError(
      'the Authorization header needs Credential, SignedHeaders and Signature',
    );
  }
  const scope = credential.split('/');
  const [accessKeyId, scopeDate, scopeRegion, scopeService, terminator] = scope;
  if (
    scope.length !== 5 ||
    accessKeyId === undefined ||
    scopeDate === undefined ||
    scopeRegion === undefined ||
    scopeService === undefined ||
    !ACCESS_KEY_ID.test(accessKeyId) ||
    !SCOPE_DATE.test(scopeDate) ||
    !SCOPE_REGION.test(scopeRegion) ||
    terminator !== 'aws4_request'
  ) {
    throw new SigV4AuthorizationError(
      'the credential scope must be ACCESS_KEY_ID/YYYYMMDD/REGION/sts/aws4_request',
    );
  }
  const signedHeaders = signedHeaderList.split(';');
  for (const [index, name] of signedHeaders.entries()) {
    if (!HEADER_NAME.test(name)) {
      throw new SigV4AuthorizationError('SignedHeaders must list lower-case header names separated by ";"');
    }
    const previous = signedHeaders[index - 1];
    // SigV4 requires sorted, unique names; anything else is not what a real signer produces.
    if (previous !== undefined && previous >= name) {
      throw new SigV4AuthorizationError('SignedHeaders must be sorted and list each header once');
    }
  }
  if (!SIGNATURE.test(signature)) {
    throw new SigV4AuthorizationError('the Signature must be 64 lower-case hex digits');
  }
  return { accessKeyId, scopeDate, scopeRegion, scopeService, signedHeaders };
}
