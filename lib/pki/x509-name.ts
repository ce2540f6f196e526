import { PkiError } from '../core/errors.js';
import { type Asn1Node, objectIdentifier, sequence, set, utf8String } from './der.js';
import { hasUnsafeText } from './safe-text.js';

/**
 * The subject names this system puts in certificates. Kubernetes reads `commonName` as the user and
 * each `organization` as a group.
 */
export interface DistinguishedName {
  commonName: string;
  /** @default none */
  organization?: string[];
  /** @default none */
  organizationalUnit?: string[];
}

const OID_COMMON_NAME = '2.5.4.3';
const OID_ORGANIZATION = '2.5.4.10';
const OID_ORGANIZATIONAL_UNIT = '2.5.4.11';

// X.520 upper bounds (ub-common-name, ub-organization-name, ub-organizational-unit-name).
const MAX_ATTRIBUTE_LENGTH = 64;
const MAX_VALUES_PER_ATTRIBUTE = 100;

/**
 * Refuses a name that cannot be encoded safely. Exported so the resource layer can refuse such names
 * when a resource is created, long before a certificate is issued.
 */
export function checkNameValue(value: unknown, field: string, maxLength = MAX_ATTRIBUTE_LENGTH): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw new PkiError('invalid_name', `The ${field} must be a non-empty string.`);
  }
  if (hasUnsafeText(value)) {
    throw new PkiError(
      'invalid_name',
      `The ${field} ${JSON.stringify(value)} contains a control character, line separator or unpaired surrogate; use printable characters only.`,
    );
  }
  if (value.trim() !== value) {
    throw new PkiError(
      'invalid_name',
      `The ${field} ${JSON.stringify(value)} starts or ends with whitespace; remove it so the name is unambiguous.`,
    );
  }
  if ([...value].length > maxLength) {
    throw new PkiError(
      'invalid_name',
      `The ${field} ${JSON.stringify(value)} is longer than ${maxLength} characters (the X.520 limit); shorten it.`,
    );
  }
  return value;
}

function attribute(oid: string, value: string): Asn1Node {
  return set([sequence([objectIdentifier(oid), utf8String(value)])]);
}

function checkList(values: string[] | undefined, field: string): string[] {
  if (values === undefined) return [];
  if (!Array.isArray(values) || values.length > MAX_VALUES_PER_ATTRIBUTE) {
    throw new PkiError(
      'invalid_name',
      `The ${field} list must be an array of at most ${MAX_VALUES_PER_ATTRIBUTE} names.`,
    );
  }
  return values.map((value) => checkNameValue(value, field));
}

/**
 * The DER Name, one attribute per RDN, ordered from the broadest (O, OU) to the most specific (CN) as
 * OpenSSL and Go print it. All values are UTF8String (RFC 5280 4.1.2.6).
 */
export function encodeDistinguishedName(name: DistinguishedName): Asn1Node {
  const commonName = checkNameValue(name.commonName, 'subject common name');
  const organizations = checkList(name.organization, 'subject organization');
  const units = checkList(name.organizationalUnit, 'subject organizational unit');
  return sequence([
    ...organizations.map((o) => attribute(OID_ORGANIZATION, o)),
    ...units.map((ou) => attribute(OID_ORGANIZATIONAL_UNIT, ou)),
    attribute(OID_COMMON_NAME, commonName),
  ]);
}
