import { constants, type KeyObject, sign } from 'node:crypto';
import { PkiError } from '../core/errors.js';
import { type Asn1Node, nullValue, objectIdentifier, sequence } from './der.js';
import { describeKey } from './key-description.js';

/** How an issuer key signs a certificate: the AlgorithmIdentifier to write and the signing call. */
export interface X509SignatureAlgorithm {
  name: 'ecdsa-with-SHA256' | 'ecdsa-with-SHA384' | 'sha256WithRSAEncryption' | 'Ed25519';
  identifier(): Asn1Node;
  sign(data: Buffer, privateKey: KeyObject): Buffer;
}

const MIN_RSA_ISSUER_BITS = 2048;

/**
 * Chosen from the issuer's key alone, so a CA can never be asked to sign with a weaker hash than its
 * key deserves. OIDs and parameter encodings from RFC 5758 (ECDSA: parameters absent), RFC 4055
 * (RSA: NULL parameters) and RFC 8410 (Ed25519: parameters absent, no pre-hash).
 */
export function signatureAlgorithmFor(issuerKey: KeyObject): X509SignatureAlgorithm {
  const description = describeKey(issuerKey);
  switch (description.kind) {
    case 'ec': {
      const p384 = description.curve === 'P-384';
      const hash = p384 ? 'sha384' : 'sha256';
      const oid = p384 ? '1.2.840.10045.4.3.3' : '1.2.840.10045.4.3.2';
      return {
        name: p384 ? 'ecdsa-with-SHA384' : 'ecdsa-with-SHA256',
        identifier: () => sequence([objectIdentifier(oid)]),
        sign: (data, key) => sign(hash, data, { key, dsaEncoding: 'der' }),
      };
    }
    case 'rsa':
      if (description.modulusBits < MIN_RSA_ISSUER_BITS) {
        throw new PkiError(
          'weak_issuer_key',
          `An RSA issuer key must have at least ${MIN_RSA_ISSUER_BITS} bits; this one has ${description.modulusBits}.`,
        );
      }
      return {
        name: 'sha256WithRSAEncryption',
        identifier: () => sequence([objectIdentifier('1.2.840.113549.1.1.11'), nullValue()]),
        sign: (data, key) => sign('sha256', data, { key, padding: constants.RSA_PKCS1_PADDING }),
      };
    case 'ed25519':
      return {
        name: 'Ed25519',
        identifier: () => sequence([objectIdentifier('1.3.101.112')]),
        sign: (data, key) => sign(null, data, key),
      };
  }
}
