import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { StoredCas } from './certificate-authorities.js';

/**
 * What makes a set of stored CAs unusable although each member has the right shape: a TLS CA whose
 * certificate OpenSSL cannot read or is no CA, whose key is not that certificate's, or a key that
 * cannot be read. Loaded as they are, such CAs would start the service and then sign certificates that
 * no bot, host or app can verify, far from the secret that caused it.
 *
 * @returns one line per problem, naming the member (`tlsUser.privateKeyPem`), never a value.
 */
export function storedCasProblems(cas: StoredCas): string[] {
  const problems: string[] = [];
  for (const name of ['tlsUser', 'tlsHost'] as const) {
    const certificate = readCertificate(cas[name].certificatePem);
    const key = readKey(cas[name].privateKeyPem);
    if (certificate === undefined) problems.push(`${name}.certificatePem: OpenSSL cannot read it`);
    else if (!certificate.ca) problems.push(`${name}.certificatePem: not a CA certificate`);
    if (key === undefined) problems.push(`${name}.privateKeyPem: OpenSSL cannot read it`);
    if (certificate !== undefined && key !== undefined && !certificate.checkPrivateKey(key)) {
      problems.push(`${name}.privateKeyPem: not the private key of ${name}.certificatePem`);
    }
  }
  for (const name of ['sshUser', 'sshHost'] as const) {
    if (readKey(cas[name].privateKeyPem) === undefined) {
      problems.push(`${name}.privateKeyPem: OpenSSL cannot read it`);
    }
  }
  return problems;
}

// OpenSSL's errors describe the input's failure, but are dropped all the same: this is key material.
function readCertificate(pem: string): X509Certificate | undefined {
  try {
    return new X509Certificate(pem);
  } catch {
    return undefined;
  }
}

function readKey(pem: string): ReturnType<typeof createPrivateKey> | undefined {
  try {
    return createPrivateKey(pem);
  } catch {
    return undefined;
  }
}
