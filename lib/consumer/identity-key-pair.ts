import { createPrivateKey, type KeyObject, X509Certificate } from 'node:crypto';
import { IdentityFormatError } from './errors.js';

/*
 * An identity's client certificate and key, read the way a TLS connection will read them. Without this
 * a certificate OpenSSL cannot decode, or a key that belongs to another certificate, is found only at
 * the first connection, as OpenSSL's "bad base64 decode" or "key values mismatch", far from the
 * secret that caused it.
 */

/** midbot writes every file of an output in one secret version, so a bad pair was written by something else. */
const REWRITE =
  'let the bot write the secret again (it runs on its schedule, or now with `aws lambda invoke`)';

/**
 * Refuses `tlscert` when OpenSSL cannot read it as an X.509 certificate, `key` when it cannot read it
 * as a private key, and the pair when `key` is not the private key of `tlscert`. Either file may be
 * absent (an `ssh_host` output has neither); the pair is checked when both are there.
 *
 * The messages name the secret, the key of the secret at fault and OpenSSL's error code, never a
 * value. The causes are OpenSSL's own errors, which describe the failure, not the input.
 *
 * @returns the certificate of `tlscert` as read, for its dates; `undefined` when there is none.
 * @throws {@link IdentityFormatError} naming the secret and the key at fault.
 */
export function checkTlsKeyPair(
  files: Readonly<Record<string, string>>,
  secretId: string,
): X509Certificate | undefined {
  const certPem = files['tlscert'];
  const keyPem = files['key'];
  const certificate = certPem === undefined ? undefined : readCertificate(certPem, secretId);
  const key = keyPem === undefined ? undefined : readPrivateKey(keyPem, secretId);
  if (certificate === undefined || key === undefined) return certificate;
  if (!certificate.checkPrivateKey(key)) {
    throw new IdentityFormatError(
      `secret ${secretId} is not a midbot identity: key "key" is not the private key of the certificate in key "tlscert", so mutual TLS cannot use the pair; ${REWRITE}`,
      { secretId },
    );
  }
  return certificate;
}

function readCertificate(pem: string, secretId: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (error) {
    throw new IdentityFormatError(
      `secret ${secretId} is not a midbot identity: key "tlscert": expected a PEM certificate, but OpenSSL cannot read it as one (${codeOf(error)}); ${REWRITE}`,
      { cause: error, secretId },
    );
  }
}

function readPrivateKey(pem: string, secretId: string): KeyObject {
  try {
    return createPrivateKey(pem);
  } catch (error) {
    // midbot writes keys unencrypted (PKCS#8): an encrypted key also lands here.
    throw new IdentityFormatError(
      `secret ${secretId} is not a midbot identity: key "key": expected an unencrypted PEM private key, but OpenSSL cannot read it as one (${codeOf(error)}); ${REWRITE}`,
      { cause: error, secretId },
    );
  }
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : 'no error code';
}
