import { type KeyObject, randomBytes, sign } from 'node:crypto';
import { CertificateAuthorities, generateCas } from '../../lib/auth/certificate-authorities.js';
import { CertificateIssuer } from '../../lib/auth/certificate-issuer.js';
import { systemClock } from '../../lib/core/clock.js';
import { secureRandom } from '../../lib/core/random.js';
import { publicKeyToPem } from '../../lib/pki/key-encoding.js';
import { generateKeyPair } from '../../lib/pki/signature-suite.js';
import { parseSubjectPublicKey } from '../../lib/pki/subject-public-key.js';
import { rate, timeFor } from './stats.js';

/**
 * Identity issuance in-process (one X.509 + one SSH certificate) vs the bare signing rate of the same CA
 * keys (one ECDSA + one Ed25519 signature): the limit issuance can approach.
 */
export function benchIssuance(): { issuance: number; bare: number; parse: number } {
  const cas = CertificateAuthorities.fromStored(
    generateCas('bench.test', 'balanced', systemClock, secureRandom),
  );
  const issuer = new CertificateIssuer(cas, systemClock, secureRandom);
  // Every identity is for another key: a pool of keys, as the service would have parsed them from requests.
  const pems = Array.from({ length: 64 }, () =>
    publicKeyToPem(generateKeyPair('balanced', 'subject').publicKey),
  );
  const subjects = pems.map((pem) => parseSubjectPublicKey(pem));
  let next = 0;
  const tbs = randomBytes(400);
  const validity = issuer.validity(3_600_000);
  const bare = timeFor(2_000, () => {
    sign('sha256', tbs, cas.tlsUser.privateKey);
    sign(null, tbs, cas.sshUser.privateKey);
  });
  const issuance = timeFor(2_000, () => {
    const subject = subjects[next++ % subjects.length] as KeyObject;
    issuer.issueClientCertificate({
      publicKey: subject,
      subject: { commonName: 'bot-bench', organization: ['ops'] },
      validity,
    });
    issuer.issueSshUserCertificate({
      publicKey: subject,
      keyId: 'bot-bench',
      principals: ['root'],
      validity,
    });
  });
  const parse = timeFor(1_000, () => parseSubjectPublicKey(pems[next++ % pems.length] as string));
  return {
    issuance: rate(issuance.count, issuance.ms),
    bare: rate(bare.count, bare.ms),
    parse: rate(parse.count, parse.ms),
  };
}
