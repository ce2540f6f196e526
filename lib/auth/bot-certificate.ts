import { type KeyObject, X509Certificate } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { AuthenticationError } from '../core/errors.js';
import { certificateDer } from '../pki/certificate-der.js';
import { positiveSerialHex } from '../pki/x509-certificate.js';
import { resourceNameProblem } from '../resources/metadata.js';
import { type BotIdentityName, parseBotIdentityName } from './bot-identity-name.js';
import type { TlsCa } from './certificate-authorities.js';

/** What the service goes on about a bot identity certificate once it knows the CA signed it. */
export interface VerifiedBotCertificate {
  readonly identity: BotIdentityName;
  /** Lowercase hex of the serial as a positive integer, without leading zero bytes. */
  readonly serialHex: string;
  /** The key whose holder may call as this identity (the request signature). */
  readonly publicKey: KeyObject;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /**
   * The roles the bot held when the certificate was issued (its subject's organizations). A hint of what
   * a request will read, never a grant: what the bot may do comes from its record as read for the call.
   */
  readonly roles: readonly string[];
}

/** Certificates known to be signed by a CA, per CA, by their exact DER (base64). */
const signedBy = new WeakMap<X509Certificate, Map<string, VerifiedBotCertificate>>();
/** Enough for every bot of a cluster; the oldest entry goes first. */
const MAX_REMEMBERED = 1_000;

/**
 * A bot identity certificate a bot presents, checked against the cluster's TLS user CA: issued and
 * signed by it, naming a bot identity, and valid now. Says nothing yet about whether the presenter holds
 * its key (the request signature) or whether the identity is current (the instance's generation).
 *
 * A bot presents the same certificate on every call until it renews, so what the parse and the CA
 * signature check found is remembered by the certificate's exact bytes, as is every bot certificate
 * this process issued (see {@link rememberIssuedBotCertificate}): a warm Lambda or the local server
 * parses a bot's certificate at most once. Validity is checked against the clock on every call.
 */
export function verifyBotCertificate(
  certificateText: Buffer | string,
  ca: TlsCa,
  clock: Clock,
): VerifiedBotCertificate {
  const remembered = rememberedFor(ca);
  // Keyed by the DER, whichever form it came in: a bot presents its certificate as DER on calls and
  // as PEM when it joins again, and both should find what the other left.
  const key = derKey(typeof certificateText === 'string' ? pemDer(certificateText) : certificateText);
  let certificate = remembered.get(key);
  if (certificate === undefined) {
    certificate = signedBotCertificate(certificateText, ca);
    remember(remembered, key, certificate);
  }
  const now = clock.now();
  if (certificate.notBefore.getTime() > now || certificate.notAfter.getTime() <= now) {
    throw new AuthenticationError(
      'certificate_expired',
      `the bot certificate is not valid now (valid ${certificate.notBefore.toISOString()} to ${certificate.notAfter.toISOString()}); a token-joined bot needs a new token, an IAM bot joins again`,
    );
  }
  return certificate;
}

/**
 * Records a bot identity certificate this process has just issued with `ca`, by its DER, with the facts
 * it was issued with: the bot presents it on its next calls, often to this same warm process, which
 * then has nothing to parse or check. The DER is exactly what `ca` signed, so a presented certificate
 * with the same bytes is that certificate.
 */
export function rememberIssuedBotCertificate(
  ca: TlsCa,
  der: Buffer,
  certificate: VerifiedBotCertificate,
): void {
  remember(rememberedFor(ca), derKey(der), certificate);
}

function rememberedFor(ca: TlsCa): Map<string, VerifiedBotCertificate> {
  let remembered = signedBy.get(ca.certificate);
  if (remembered === undefined) {
    remembered = new Map();
    signedBy.set(ca.certificate, remembered);
  }
  return remembered;
}

function remember(
  remembered: Map<string, VerifiedBotCertificate>,
  key: string,
  value: VerifiedBotCertificate,
) {
  if (remembered.size >= MAX_REMEMBERED) remembered.delete(remembered.keys().next().value as string);
  remembered.set(key, value);
}

const derKey = (der: Buffer) => der.toString('base64');

/** The DER of a PEM certificate, or the text itself when it is not one PEM block (parsed as is below). */
function pemDer(text: string): Buffer {
  try {
    return certificateDer(text);
  } catch {
    return Buffer.from(text);
  }
}

/** Parses the certificate, checks that the CA issued and signed it, and reads the bot identity it names. */
function signedBotCertificate(certificateText: Buffer | string, ca: TlsCa): VerifiedBotCertificate {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certificateText);
  } catch (error) {
    throw new AuthenticationError(
      'bot_auth_malformed',
      'the bot certificate header does not hold a certificate',
      { cause: error },
    );
  }
  if (!certificate.checkIssued(ca.certificate) || !certificate.verify(ca.certificate.publicKey)) {
    throw new AuthenticationError(
      'untrusted_certificate',
      'the bot certificate was not issued by this cluster',
    );
  }
  return {
    identity: parseBotIdentityName(certificate.subjectAltName),
    serialHex: positiveSerialHex(certificate.serialNumber),
    publicKey: certificate.publicKey,
    notBefore: new Date(certificate.validFrom),
    notAfter: new Date(certificate.validTo),
    roles: organizationNames(certificate.subject),
  };
}

/**
 * The organization (O) values of a subject as node's X509Certificate gives it, one attribute a line,
 * that are resource names: role names are, so nothing else can be taken for one.
 */
function organizationNames(subject: string): string[] {
  return subject
    .split('\n')
    .filter((line) => line.startsWith('O='))
    .map((line) => line.slice(2))
    .filter((name) => resourceNameProblem(name) === undefined);
}
