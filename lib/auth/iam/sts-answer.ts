import { type AwsPrincipal, parseAwsPrincipal } from './aws-principal.js';
import { IamJoinError, StsUnavailableError } from './iam-join-error.js';
import { parseStrictXml, type XmlElement, XmlError } from './strict-xml.js';
import type { StsAnswer } from './sts-caller.js';
import type { StsEndpoint } from './sts-host-allowlist.js';

/** The identity STS vouched for. */
export interface AwsIdentity {
  readonly principal: AwsPrincipal;
  readonly userId: string;
}

const NAMESPACE = 'https://sts.amazonaws.com/doc/2011-06-15/';
/** STS answers `text/xml`; the server never asks for JSON, so nothing else is a valid success. */
const CONTENT_TYPE = /^text\/xml\s*(?:;\s*charset="?utf-8"?\s*)?$/i;
const ACCOUNT = /^\d{12}$/;
const ERROR_CODE = /^[A-Za-z0-9.]{1,64}$/;
const THROTTLED = new Set(['Throttling', 'ThrottlingException', 'RequestLimitExceeded']);

function invalid(reason: string, awsArn?: string): IamJoinError {
  return new IamJoinError(
    'sts_response_invalid',
    `STS's answer was refused: ${reason}`,
    awsArn === undefined ? undefined : { awsArn },
  );
}

/** The one child of `parent` named `name`; none or several are refused. */
function only(parent: XmlElement, name: string): XmlElement {
  const found = parent.children.filter((child) => child.name === name);
  if (found.length !== 1) {
    throw invalid(`<${parent.name}> has ${found.length} <${name}> elements, expected exactly one`);
  }
  return found[0] as XmlElement;
}

function checkChildren(parent: XmlElement, allowed: readonly string[]): void {
  for (const child of parent.children) {
    if (!allowed.includes(child.name)) throw invalid(`<${parent.name}> has an unexpected <${child.name}>`);
  }
}

function leaf(parent: XmlElement, name: string): string {
  const element = only(parent, name);
  if (element.children.length > 0) throw invalid(`<${name}> is not a simple value`);
  return element.text.trim();
}

/** STS's error code from an ErrorResponse, when there is a plausible one. */
function errorCode(body: string): string | undefined {
  try {
    const root = parseStrictXml(body);
    const code = root.children
      .find((child) => child.name === 'Error')
      ?.children.find((child) => child.name === 'Code')
      ?.text.trim();
    return code !== undefined && ERROR_CODE.test(code) ? code : undefined;
  } catch {
    return undefined;
  }
}

function decodeUtf8(body: Buffer): string {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: false }).decode(body);
  } catch {
    throw invalid('it is not UTF-8 text');
  }
}

/**
 * Reads STS's answer strictly (SECURITY rule 5): status 200, `text/xml`, one
 * `GetCallerIdentityResponse` with exactly one `GetCallerIdentityResult` holding exactly one `Arn`,
 * `UserId` and `Account`; the ARN's account equals `Account`, its partition is the endpoint's, and the
 * `UserId` fits the principal. Refusals of identities STS did vouch for carry the ARN for the audit log.
 */
export function readGetCallerIdentityAnswer(answer: StsAnswer, endpoint: StsEndpoint): AwsIdentity {
  const { status } = answer;
  if (status >= 300 && status < 400) {
    throw invalid(`STS answered with a redirect (HTTP ${status}), which is never followed`);
  }
  if (status >= 500) {
    throw new StsUnavailableError(
      `STS at ${endpoint.host} failed (HTTP ${status}); the challenge is spent, so get a new one and retry`,
    );
  }
  if (status >= 400) {
    const code = errorCode(answer.body.toString('utf8'));
    if (status === 429 || (code !== undefined && THROTTLED.has(code))) {
      throw new StsUnavailableError(
        `STS at ${endpoint.host} is throttling (${code ?? `HTTP ${status}`}); get a new challenge and retry after a pause`,
      );
    }
    throw new IamJoinError(
      'sts_denied',
      `STS refused the signed request (HTTP ${status}, ${code ?? 'no error code'}); check the bot's AWS credentials and its clock (SigV4 allows 15 minutes of skew)`,
    );
  }
  if (status !== 200) throw invalid(`HTTP ${status} instead of 200`);
  if (answer.contentType === undefined || !CONTENT_TYPE.test(answer.contentType)) {
    throw invalid(
      `content type ${JSON.stringify(answer.contentType ?? 'none').slice(0, 80)} instead of text/xml`,
    );
  }

  let root: XmlElement;
  try {
    root = parseStrictXml(decodeUtf8(answer.body));
  } catch (error) {
    if (error instanceof XmlError) throw invalid(`it is not a plain XML document (${error.message})`);
    throw error;
  }
  if (root.name !== 'GetCallerIdentityResponse') {
    throw invalid(`the document is <${root.name}>, not <GetCallerIdentityResponse>`);
  }
  if (root.attributes.size !== 1 || root.attributes.get('xmlns') !== NAMESPACE) {
    throw invalid(`<GetCallerIdentityResponse> must have exactly the attribute xmlns="${NAMESPACE}"`);
  }
  checkChildren(root, ['GetCallerIdentityResult', 'ResponseMetadata']);
  if (root.children.filter((child) => child.name === 'ResponseMetadata').length > 1) {
    throw invalid('<GetCallerIdentityResponse> has more than one <ResponseMetadata>');
  }
  const result = only(root, 'GetCallerIdentityResult');
  checkChildren(result, ['Arn', 'UserId', 'Account']);
  const arn = leaf(result, 'Arn');
  const userId = leaf(result, 'UserId');
  const account = leaf(result, 'Account');

  const principal = parseAwsPrincipal(arn);
  if (principal === undefined) throw invalid('the Arn is not an IAM or STS ARN');
  if (!ACCOUNT.test(account)) throw invalid('the Account is not a 12-digit account id', arn);
  if (principal.account !== account) {
    throw invalid(`the ARN's account ${principal.account} differs from Account ${account}`, arn);
  }
  if (principal.partition !== endpoint.partition) {
    throw invalid(
      `the ARN is in partition ${principal.partition} but ${endpoint.host} serves ${endpoint.partition}`,
      arn,
    );
  }
  if (!userIdFits(principal, userId)) throw invalid('the UserId does not fit the ARN', arn);
  return { principal, userId };
}

/** Role sessions are `AROA…:<session>`, users `AIDA…`; other principals are refused later anyway. */
function userIdFits(principal: AwsPrincipal, userId: string): boolean {
  if (principal.type === 'assumed-role') {
    const colon = userId.indexOf(':');
    if (colon === -1) return false;
    return (
      /^AROA[A-Z0-9]{8,128}$/.test(userId.slice(0, colon)) &&
      userId.slice(colon + 1) === principal.sessionName
    );
  }
  if (principal.type === 'user') return /^AIDA[A-Z0-9]{8,128}$/.test(userId);
  return /^[\x21-\x7e]{1,256}$/.test(userId);
}
