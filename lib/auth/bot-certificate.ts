import { X509Certificate } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import { AuthenticationError } from '../core/errors.js';
import type { TlsCa } from './certificate-authorities.js';

/**
 * A certificate a bot presents, checked against the cluster's TLS user CA: issued and signed by it, and
 * valid now. Says nothing yet about whose it is (see `parseBotIdentityName`) or whether the presenter
 * holds its key (the request signature).
 */
export function verifyBotCertificate(
  certificateText: Buffer | string,
  ca: TlsCa,
  clock: Clock,
): X509Certificate {
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(certificateText);
  } catch (error) {
    throw new AuthenticationError(
      'bot_auth_malformed',
      'the bot certificate header does not hold a certificate',
      {
        cause: error,
      },
    );
  }
  if (!certificate.checkIssued(ca.certificate) || !certificate.verify(ca.certificate.publicKey)) {
    throw new AuthenticationError(
      'untrusted_certificate',
      'the bot certificate was not issued by this cluster',
    );
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
