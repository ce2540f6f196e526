import { X509Certificate } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { AuthenticationError } from '../core/errors.js';
import { certificateDer } from '../pki/certificate-der.js';
import type { TlsCa } from './certificate-authorities.js';

/** Certificates already found to be signed by a CA, per CA, by their exact text. */
const signedBy = new WeakMap<X509Certificate, Map<string, X509Certificate>>();
/** Enough for every bot of a cluster; the oldest entry goes first. */
const MAX_REMEMBERED = 1_000;

/**
 * A certificate a bot presents, checked against the cluster's TLS user CA: issued and signed by it, and
 * valid now. Says nothing yet about whose it is (see `parseBotIdentityName`) or whether the presenter
 * holds its key (the request signature).
 *
 * A bot presents the same certificate on every call until it renews, so the parse and the CA signature
 * check are remembered by the certificate's exact bytes (a warm Lambda or the local server skips both on
 * the next call). Validity is checked against the clock on every call.
 */
export function verifyBotCertificate(
  certificateText: Buffer | string,
  ca: TlsCa,
  clock: Clock,
): X509Certificate {
  let remembered = signedBy.get(ca.certificate);
  if (remembered === undefined) {
    remembered = new Map();
    signedBy.set(ca.certificate, remembered);
  }
  // Keyed by the DER, whichever form it came in: a bot presents its certificate as DER on calls and
  // as PEM when it joins again, and both should find what the other left.
  const key = (typeof certificateText === 'string' ? pemDer(certificateText) : certificateText).toString(
    'base64',
  );
  let certificate = remembered.get(key);
  if (certificate === undefined) {
    certificate = signedCertificate(certificateText, ca);
    if (remembered.size >= MAX_REMEMBERED) remembered.delete(remembered.keys().next().value as string);
    remembered.set(key, certificate);
  }
  const now = clock.now();
  if (Date.parse(certificate.validFrom) > now || Date.parse(certificate.validTo) <= now) {
    throw new AuthenticationError(
      'certificate_expired',
      `the bot certificate is not valid now (valid ${certificate.validFrom} to ${certificate.validTo}); a token-joined bot needs a new token, an IAM bot joins again`,
    );
  }
  return certificate;
}

/** The DER of a PEM certificate, or the text itself when it is not one PEM block (parsed as is below). */
function pemDer(text: string): Buffer {
  try {
    return certificateDer(text);
  } catch {
    return Buffer.from(text);
  }
}

/** Parses the certificate and checks that the CA issued and signed it. */
function signedCertificate(certificateText: Buffer | string, ca: TlsCa): X509Certificate {
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
  return certificate;
}
